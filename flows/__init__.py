"""The stage flows. A flow run is a new process that imports Prefect, then one of these modules.

``gc.freeze()``: everything loaded so far (Prefect's ~150k objects) lives as long as the process;
without it every full collection during the stage's imports walks them again (0.1–0.2 s of each
flow run's start-up, measured with ``bench/bench_startup.py``).
"""

import gc

gc.freeze()
