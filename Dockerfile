# paymock: the mock server, and the contract kit that runs against it or a real API.
#   docker build -t paymock . && docker run -p 8787:8787 paymock
# The image runs the wheel, exactly as a user's `pip install` would: contracts, fixtures, keys and
# templates are package data, so nothing of the source tree is needed at run time.
FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE CHANGELOG.md ./
COPY mock_server ./mock_server
COPY paymock ./paymock
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=wheel /dist /dist
# The contract kit needs Schemathesis (the "contract" extra); the server alone does not.
RUN pip install "$(echo /dist/paymock-*.whl)[contract]" && rm -rf /dist

RUN useradd --create-home --uid 10001 paymock
USER paymock
# A writable working directory (Hypothesis keeps a small cache in .hypothesis/).
WORKDIR /home/paymock

EXPOSE 8787
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=10 \
  CMD python -c "import os, sys, urllib.request as u; t = os.environ.get('PAYMOCK_CONTROL_TOKEN'); r = u.Request('http://127.0.0.1:8787/_mock/health', headers={'Authorization': 'Bearer ' + t} if t else {}); sys.exit(0 if u.urlopen(r, timeout=2).status == 200 else 1)"

CMD ["paymock", "serve", "--host", "0.0.0.0", "--port", "8787"]
