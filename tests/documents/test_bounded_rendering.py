"""Templates the helpdesk uploads render within limits: a runaway loop stops at the CPU limit,
a memory hog at the memory limit, a slow one at the wall clock, a zip bomb before parsing; a
well-behaved template renders the same bytes bounded as in process."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest

from documents.bounded import Limits, check_package, render_bounded
from documents.rendering import RenderError, docx_text, render_docx

FIXED = datetime(2026, 12, 1, tzinfo=UTC)


def template(tmp_path: Path, body: str, name: str = "t.docx") -> Path:
    document = docx.Document()
    document.add_paragraph(body)
    path = tmp_path / name
    document.save(str(path))
    return path


def test_a_well_behaved_template_renders_the_same_bounded(tmp_path: Path) -> None:
    path = template(tmp_path, "Agreement for {{ party }}")
    bounded = render_docx(path, {"party": "Ana & Co"}, fixed_time=FIXED, sandboxed=True)
    in_process = render_docx(
        path, {"party": "Ana & Co"}, fixed_time=FIXED, sandboxed=True, bounded=False
    )
    assert bounded == in_process
    assert "Agreement for Ana & Co" in docx_text(bounded)


def test_nested_loops_stop_at_the_cpu_limit(tmp_path: Path) -> None:
    path = template(
        tmp_path,
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    )
    kind, why = render_bounded(path, {}, FIXED, Limits(cpu_seconds=1, wall_seconds=60))
    assert kind == "limit" and "1 s of CPU" in why


def test_a_slow_render_stops_at_the_wall_clock(tmp_path: Path) -> None:
    path = template(
        tmp_path,
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    )
    kind, why = render_bounded(path, {}, FIXED, Limits(cpu_seconds=60, wall_seconds=1))
    assert kind == "limit" and "longer than 1 s" in why


def test_a_memory_hog_stops_at_the_memory_limit(tmp_path: Path) -> None:
    path = template(tmp_path, "{{ 'x' * 400000000 }}")
    kind, why = render_bounded(path, {}, FIXED, Limits(memory_bytes=300 * 1024 * 1024))
    assert kind in ("limit", "error") and ("MB" in why or "memory" in why.lower()), why


def test_the_sandbox_still_refuses_and_says_why(tmp_path: Path) -> None:
    path = template(tmp_path, "{{ ''.__class__.__mro__ }}")
    with pytest.raises(RenderError, match="cannot render|unsafe|access"):
        render_docx(path, {}, fixed_time=FIXED, sandboxed=True)


def test_a_zip_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("word/document.xml", b"\0" * (60 * 1024 * 1024))  # 60 MB of zeros
    data = out.getvalue()
    assert len(data) < 200_000  # small on the wire
    why = check_package(data)
    assert why is not None and "expands to 60 MB" in why
    path = tmp_path / "bomb.docx"
    path.write_bytes(data)
    with pytest.raises(RenderError, match="expands to 60 MB"):
        render_docx(path, {}, fixed_time=FIXED, sandboxed=True)
