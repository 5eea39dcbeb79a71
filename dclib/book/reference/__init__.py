"""The reference: the papers' protocol on full data, computed once and committed.

``jobs`` declares the unit of the plan (a page recipe on one dataset and seed, with
its CPU caps), ``runner`` runs the plan through submitit (``dclib reference``), and
``store`` reads the committed results back for the pages.
"""
