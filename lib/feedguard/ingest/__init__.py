"""The file feeds (QuickBite JSON, MealDash CSV): the driver's checks of each file, the sources that read
lines and JSON arrays with their lineage, the caps on hostile input, the verdict per file, routing into
valid rows and dead letters, replay, and the run flow (``flow``) and job (``job``).
"""
