from django.core.management.base import BaseCommand, CommandError

from actions.models import Department
from actions.plan_file import DEFAULT_PLAN_PATH, PlanFileError, read_plan_file
from actions.services import plan_load


class Command(BaseCommand):
    help = "Validate a plan file (YAML) and load it: atomic, and idempotent (a second run updates in place)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_PLAN_PATH), help="plan file; default: the bundled 2022 plan")

    def handle(self, *args, path, **options):
        try:
            data = read_plan_file(path, existing_departments=set(Department.objects.values_list("code", flat=True)))
        except PlanFileError as exc:
            for line in exc.problems:
                self.stderr.write(line)
            raise CommandError(f"{path}: {len(exc.problems)} problem(s); nothing was loaded") from None
        summary = plan_load(data=data)

        plan = summary.plan
        created = ", ".join(f"{n} {name}" for name, n in summary.created.items()) or "nothing"
        updated = ", ".join(f"{n} {name}" for name, n in summary.updated.items()) or "nothing"
        self.stdout.write(self.style.SUCCESS(f"Loaded plan {plan.year} «{plan.title}» from {path}"))
        self.stdout.write(f"  created: {created}")
        self.stdout.write(f"  updated: {updated}")
        for line in summary.kept:
            self.stdout.write(f"  kept (no longer in the file): {line}")
