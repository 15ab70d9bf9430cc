"""Stage 4, reporting: metrics, baselines, run reports, rendering and the comparison of runs."""
