# gdviz: the Streamlit app on a slim Python with CPU-only PyTorch (GPU variant: see README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 gdviz
WORKDIR /app

# requirements.txt pulls torch from the CPU-only index, so no CUDA wheels land in the image
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=gdviz:gdviz . .
USER 10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
