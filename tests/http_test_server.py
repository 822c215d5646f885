"""A tiny HTTP server on 127.0.0.1 for download tests (no outside network).

`serve(files)` serves `files` (`{"/path": bytes}`); a path in `truncated`
announces its full length but sends only half and closes, like a dropped
connection. `server.hits` counts requests per path.
"""
import contextlib
import http.server
import threading


@contextlib.contextmanager
def serve(files, truncated=()):
  hits = {}

  class Handler(http.server.BaseHTTPRequestHandler):

    def do_GET(self):  # noqa: N802 (http.server's name)
      hits[self.path] = hits.get(self.path, 0) + 1
      body = files.get(self.path)
      if body is None:
        self.send_error(404)
        return
      self.send_response(200)
      self.send_header("Content-Length", str(len(body)))
      self.end_headers()
      if self.path in truncated:
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        return
      self.wfile.write(body)

    def log_message(self, *args):
      pass

  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  server.base = f"http://127.0.0.1:{server.server_address[1]}"
  server.hits = hits
  try:
    yield server
  finally:
    server.shutdown()
    server.server_close()
