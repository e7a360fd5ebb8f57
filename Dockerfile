# gdviz: the Streamlit app on a slim Python with CPU-only PyTorch (GPU variant: see README).
FROM python:3.11-slim

# Streamlit reads its address and port from these: a replica sets its own (deploy/docker-compose.yml)
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501

RUN useradd --create-home --uid 10001 gdviz
WORKDIR /app

# requirements.txt pulls torch from the CPU-only index, so no CUDA wheels land in the image
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=gdviz:gdviz . .
USER 10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/_stcore/health' % os.environ['STREAMLIT_SERVER_PORT']; sys.exit(urllib.request.urlopen(url, timeout=4).read() != b'ok')"]

CMD ["streamlit", "run", "app.py"]
