"""Stage 1: GET serves files from the document root with the right status line, Content-Type and Content-Length."""

from httpchecks import expect_file

SMALL_FILES = ["/style.css", "/app.js", "/data.json", "/notes.txt", "/icon.svg", "/photo.jpg", "/docs/CHANGES.TXT"]
UNKNOWN_TYPES = ["/LICENSE", "/backup.tar.gz"]


def check_index_page_is_served_for_the_root(http, site):
    """GET / serves index.html"""
    expect_file(http().exchange("GET", "/"), site["/index.html"], "GET /")
    expect_file(http().exchange("GET", "/index.html"), site["/index.html"])


def check_content_type_follows_the_extension(http, site):
    """Each file comes with the Content-Type of its extension"""
    for path in SMALL_FILES:
        expect_file(http(f"client for {path}").exchange("GET", path), site[path])


def check_unknown_extensions_are_octet_stream(http, site):
    """Unknown extensions and names without one are application/octet-stream"""
    for path in UNKNOWN_TYPES:
        expect_file(http(f"client for {path}").exchange("GET", path), site[path])


def check_files_in_subfolders_and_empty_files(http, site):
    """Files in subfolders and empty files are served"""
    expect_file(http().exchange("GET", "/docs/guide.txt"), site["/docs/guide.txt"])
    expect_file(http().exchange("GET", "/empty.txt"), site["/empty.txt"])


def check_large_binary_file_arrives_intact(http, site):
    """A 256 KiB binary file arrives byte for byte"""
    expect_file(http(timeout=5.0).exchange("GET", "/logo.png"), site["/logo.png"])
