"""Reading back the PDFs the console makes (poppler's pdftotext), for the
document, task, roll-up and figure tests."""

import hashlib
import re
import subprocess


def pdf_text(content, tmp_path, layout=False, first=None, last=None):
    """The text of a PDF's bytes; ``layout`` keeps columns side by side (tables);
    ``first`` and ``last`` read only those pages (1-based, inclusive)."""
    path = tmp_path / f"doc-{hashlib.sha256(content).hexdigest()[:12]}.pdf"
    path.write_bytes(content)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    args = ["pdftotext", *pages, "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, timeout=60).stdout.decode("utf-8")


def flat(text):
    """Text with all white space removed: CJK lines wrap anywhere."""
    return re.sub(r"\s+", "", text)
