# paymock: the mock server (the default target, `runtime`), and the contract kit (`contract`).
#   docker build -t paymock . && docker run -p 127.0.0.1:8787:8787 paymock
#   (the server binds inside the container with a control token it generates and prints:
#    `docker run -e PAYMOCK_CONTROL_TOKEN=... ` gives it one instead)
#   docker build --target contract -t paymock-contract .   # + Schemathesis, for `paymock contract`
# Both run the wheel, exactly as a user's `pip install` would: contracts, fixtures, keys and
# templates are package data, so nothing of the source tree is needed at run time; the runtime
# image holds no test tools.
FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE CHANGELOG.md ./
COPY mock_server ./mock_server
COPY paymock ./paymock
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAYMOCK_HOST=0.0.0.0 PAYMOCK_PORT=8787 PAYMOCK_CONTROL_TOKEN=generate
RUN useradd --create-home --uid 10001 paymock
EXPOSE 8787
# GET / answers without the control token, on whatever port PAYMOCK_PORT says.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=10 \
  CMD python -c "import os, sys, urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:%s/' % os.environ.get('PAYMOCK_PORT', '8787'), timeout=2).status == 200 else 1)"
CMD ["paymock", "serve"]

# The contract kit: the server's image plus Schemathesis (the "contract" extra).
FROM base AS contract
COPY --from=wheel /dist /dist
RUN pip install "$(echo /dist/paymock-*.whl)[contract]" && rm -rf /dist
USER paymock
# A writable working directory (Hypothesis keeps a small cache in .hypothesis/).
WORKDIR /home/paymock

# The server alone (the default target): no test tools.
FROM base AS runtime
COPY --from=wheel /dist /dist
RUN pip install "$(echo /dist/paymock-*.whl)" && rm -rf /dist
USER paymock
WORKDIR /home/paymock
