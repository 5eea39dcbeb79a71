#!/bin/sh
# Debian's dataset-fashion-mnist ships the full Fashion-MNIST (70,000 images) that the
# `fmnist` loader reads offline. Installed when missing and when we are root; otherwise
# say how to get it (the loader can also download it with network).
if [ -d /usr/share/datasets/fashion-mnist ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's dataset-fashion-mnist (full Fashion-MNIST, offline)..."
    (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 \
             && apt-get install -y -q dataset-fashion-mnist >/dev/null; }) \
        || echo "warning: could not install dataset-fashion-mnist; fmnist will need download=True"
else
    echo "note: Fashion-MNIST not found; 'sudo apt-get install dataset-fashion-mnist'" \
         "gives it offline (or dclib downloads it with download=True)."
fi
