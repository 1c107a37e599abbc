"""`worker_status` on every page, evaluated (one query) only by the pages that show the no-worker notice."""

from django.utils.functional import SimpleLazyObject


def worker(request):
    def status():
        from ctdc.web.worker.selectors import worker_status

        return worker_status()

    return {"worker_status": SimpleLazyObject(status)}
