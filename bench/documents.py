"""Documents per second: the project's renderer against raw docxtpl, same template and inputs.

The project's renderer adds what raw docxtpl does not do: strict undefined and autoescape,
the control-character check, fixed core properties and the normalised zip (same inputs, same
bytes). The ratio says what that costs (target: project / raw >= 0.9).

    .venv/bin/python bench/documents.py            # 200 renders each, interleaved
    .venv/bin/python bench/documents.py --quick    # a few renders: the test suite runs this
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docxtpl import DocxTemplate  # noqa: E402

from documents.rendering import render_docx, template_path  # noqa: E402
from domain.agreements import (  # noqa: E402
    SPECIFIC_AGREEMENT_TEMPLATE,
    AgreementParty,
    AgreementTask,
    SpecificAgreementVariables,
)

FIXED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def variables() -> dict:  # type: ignore[type-arg]
    party = {"country": "Portugal"}
    return SpecificAgreementVariables(
        case_ref="BENCH-1",
        version=1,
        issued_on=date(2026, 11, 24),
        title="Computer-vision quality control for cork stoppers",
        need="Detect surface defects on cork stoppers before shipping.",
        scope="Data audit, a proof-of-concept classifier and a test-before-invest run.",
        lead=AgreementParty(id="tagus-ai", name="Tagus AI Hub", role="lead", **party),
        partners=[
            AgreementParty(id="po-valley-ai", name="Po Valley AI", role="partner", **party),
            AgreementParty(id="spree-trust", name="Spree Trust Lab", role="partner", **party),
        ],
        client=AgreementParty(id="client", name="Cortica Exemplo Lda", role="client", **party),
        tasks=[
            AgreementTask(party="Tagus AI Hub", description="Coordination", cost_share_pct=40),
            AgreementTask(party="Po Valley AI", description="Classifier", cost_share_pct=35),
            AgreementTask(party="Spree Trust Lab", description="Assessment", cost_share_pct=25),
        ],
        start_date=date(2026, 12, 1),
        end_date=date(2027, 5, 31),
        framework_reference="FCA 2026",
    ).to_context()


def raw(path: Path, context: dict) -> bytes:  # type: ignore[type-arg]
    tpl = DocxTemplate(path)
    tpl.render(context)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def ours(path: Path, context: dict) -> bytes:  # type: ignore[type-arg]
    return render_docx(path, context, fixed_time=FIXED)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a few renders (smoke test)")
    args = parser.parse_args(argv)
    n = 3 if args.quick else args.renders
    path, context = template_path(SPECIFIC_AGREEMENT_TEMPLATE), variables()
    raw(path, context), ours(path, context)  # warm up imports and caches
    times: dict[str, list[float]] = {"raw docxtpl": [], "dihflow": []}
    for _ in range(n):  # interleaved, so machine noise falls on both alike
        for name, fn in (("raw docxtpl", raw), ("dihflow", ours)):
            start = time.perf_counter()
            fn(path, context)
            times[name].append(time.perf_counter() - start)
    same = ours(path, context) == ours(path, context)
    print(f"specific collaboration agreement, {n} renders each (interleaved)")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<12} median {median * 1000:7.1f} ms   {1 / median:7.1f} documents/s")
    ratio = statistics.median(times["raw docxtpl"]) / statistics.median(times["dihflow"])
    print(f"  ratio dihflow/raw throughput: {ratio:.2f}  (target >= 0.90)")
    print(f"  same inputs give the same bytes: {same} (raw docxtpl: no, it stamps the time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
