import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
class HealthzTests:
    def test_it_answers_ok_without_login_or_database(self, client):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/healthz")
        assert response.status_code == 200
        assert response.content == b"ok" and response["Content-Type"].startswith("text/plain")
        assert len(queries) == 0
