import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

MODELS = ["plan", "department", "action", "task", "milestone", "indicator"]


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root", password="pw")


@pytest.mark.django_db
class AdminTests:
    @pytest.mark.parametrize("model", MODELS)
    def test_every_plan_model_has_a_searchable_chinese_changelist(self, client, cast, admin_user, model):
        client.force_login(admin_user)
        response = client.get(reverse(f"admin:actions_{model}_changelist"), {"q": "任务"})
        assert response.status_code == 200
        assert '<html lang="zh-hans"' in response.content.decode()
        assert response.context["cl"].search_fields

    def test_it_finds_tasks_by_title(self, client, cast, admin_user):
        client.force_login(admin_user)
        response = client.get(reverse("admin:actions_task_changelist"), {"q": "任务3.1"})
        assert [str(t) for t in response.context["cl"].result_list] == ["3.1 任务3.1"]

    def test_figures_cannot_be_changed_in_the_admin(self, client, cast, admin_user):
        client.force_login(admin_user)
        assert client.get(reverse("admin:metrics_figure_changelist")).status_code == 200
        assert client.get(reverse("admin:metrics_figure_add")).status_code == 403

    @pytest.mark.parametrize("who", ["leader", "supervisor", "staff_a"])
    def test_other_roles_cannot_use_the_admin(self, client, cast, who):
        client.force_login(getattr(cast, who))
        response = client.get(reverse("admin:actions_plan_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response.url
