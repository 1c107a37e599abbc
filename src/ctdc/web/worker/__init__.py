"""The background task worker: its heartbeat (in the database, so web processes on any machine can see it) and
the notice that pages waiting on the queue show when no worker has been seen for a while."""
