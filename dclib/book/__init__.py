"""The companion floor: what the book's pages run and show.

The library (everything in ``dclib`` outside this package and ``cli.py``) is what
``DCSS(n_clusters=10).fit_predict(X)`` needs and never imports from here. This
package holds the book's machinery: run profiles (``profiles``), the run cache
(``cache``), the papers' own numbers (``paper_tables``), the catalog of runs and
claims (``catalog``), one module per paper (``papers``), the reference runner and
its committed results (``reference``), the reports the pages display (``report``)
and the page executor (``executor``).
"""

from __future__ import annotations

from dclib.book.profiles import start_run

__all__ = ["start_run"]
