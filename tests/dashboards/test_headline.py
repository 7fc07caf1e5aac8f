"""One headline a leader reads at a glance, every 序时 labelled for what it is, and every light with its
name (numbers an official can act on, items 8 and 9)."""

import datetime
import re

import pytest
from django.urls import reverse

from actions.models import Task
from metrics.choices import Light, RollupLevel
from metrics.models import Rollup
from metrics.rollup.services import rollup_plan_weeks
from planboard import formatting

WEEK = datetime.date(2022, 5, 16)
LABELS = [str(light.label) for light in Light]


@pytest.fixture
def rolled(cast, settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 2), last=datetime.date(2022, 5, 20))
    return cast


def text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.django_db
class HeadlineTests:
    def test_the_overview_has_one_defined_headline_and_labels_each_schedule(self, client, rolled):
        client.force_login(rolled.leader)
        html = client.get(reverse("metrics:overview")).content.decode()
        plan_row = Rollup.objects.get(level=RollupLevel.PLAN, week=WEEK)
        page = text(html)
        assert f'data-kpi="attainment">{formatting.pct(plan_row.attainment_pct)}%<' in html
        assert "按序时进度完成" in page and "100% 即正好达到序时进度" in page
        assert f"全年时间进度 {formatting.pct(140 * 100 / 365)}%" in page
        assert f"加权序时目标 {formatting.pct(plan_row.schedule_pct)}%" in page
        # No weighted completion beside a schedule: it reads as a ratio the headline is not.
        assert "完成 " + formatting.pct(plan_row.completion_pct) + "%，序时" not in page
        assert f'data-light="{plan_row.light}"' in html

    def test_the_cards_and_the_action_header_say_the_same_in_the_same_words(self, client, rolled):
        client.force_login(rolled.leader)
        row = Rollup.objects.get(level=RollupLevel.ACTION, week=WEEK, action__number=1)
        overview = text(client.get(reverse("metrics:overview")).content.decode())
        action = text(client.get(reverse("metrics:action_detail", args=[1])).content.decode())
        words = f"按序时进度完成 {formatting.pct(row.attainment_pct)}% · 加权序时目标 {formatting.pct(row.schedule_pct)}%"
        assert words in overview and words in action
        assert f"{row.get_light_display()} · {words}" in action


@pytest.mark.django_db
class LightLabelTests:
    @pytest.mark.parametrize("page", ["overview", "action", "department", "supervision", "indicator"])
    def test_every_light_dot_carries_its_name(self, client, rolled, page):
        from actions.models import Indicator
        from metrics.models import Figure

        # One indicator far behind schedule with every report in (not 未报), so that the supervision list has a red row.
        output = Indicator.objects.get(code="output-1")
        Figure.objects.create(indicator=output, department=rolled.dept_a,
                              period_start=datetime.date(2022, 5, 2), value=1, entered_at=datetime.datetime(2022, 5, 3, tzinfo=datetime.UTC))
        for department in (rolled.dept_a, rolled.dept_b):
            for week in (datetime.date(2022, 5, 9), datetime.date(2022, 5, 16)):  # whichever is the latest period due
                Figure.objects.update_or_create(indicator=output, department=department, period_start=week,
                                                defaults={"value": 0, "entered_at": datetime.datetime(2022, 5, 10, tzinfo=datetime.UTC)})
        rollup_plan_weeks(plan=rolled.plan, first=WEEK, last=datetime.date(2022, 5, 20))
        client.force_login(rolled.supervisor)
        url = {
            "overview": reverse("metrics:overview"),
            "action": reverse("metrics:action_detail", args=[1]),
            "department": reverse("metrics:department_detail", args=[rolled.dept_a.pk]),
            "supervision": reverse("metrics:supervision"),
            "indicator": reverse("metrics:indicator_detail", args=[Indicator.objects.get(code="output-1").pk]),
        }[page]
        html = client.get(url).content.decode().split("<main", 1)[1]
        dots = [m.end() for m in re.finditer(r'<span class="dot [a-z]+"[^>]*></span>', html)]
        assert dots, page
        for end in dots:
            after = text(html[end : end + 400])[:60]
            assert any(label in after for label in LABELS), (page, after)

    def test_the_department_page_ledger_reads_the_stored_task_light(self, client, rolled):
        client.force_login(rolled.leader)
        tasks = client.get(reverse("metrics:department_detail", args=[rolled.dept_a.pk])).context["tasks"]
        stored = dict(Rollup.objects.filter(level=RollupLevel.TASK, week=WEEK).values_list("task_id", "light"))
        assert len(tasks.rows) == Task.objects.count()
        for row in tasks.rows:
            assert row.record.light == stored[row.record.pk]
