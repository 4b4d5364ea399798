"""Django and Django REST framework: urls.py (URLconfs, includes, routers), auth.py (views)."""

from threatmodel.frameworks._python import GUARDS
from threatmodel.frameworks.base import Declared, RequestSources

FRAMEWORK = Declared(
    name="django",
    language="python",
    routes="threatmodel.frameworks.django.urls",
    collector="pyweb",
    guards=(*GUARDS, "threatmodel.frameworks.django.auth"),
    sources=RequestSources(
        types=frozenset({"HttpRequest", "WSGIRequest", "HttpRequestBase"}),
        # BaseModelFormSet.save() fills deleted_objects with the instances of its queryset
        # the client ticked for deletion: the rows are the database's, only the choice is
        # the client's
        stored=frozenset({"deleted_objects"}),
    ),
    packages=("django", "djangorestframework"),
)
