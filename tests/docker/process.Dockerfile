# A custom processing image: exec-form ENTRYPOINT so SIGTERM reaches Python (reference §3.3).
FROM sagewatch-test/base:bookworm
COPY process.py /opt/program/process.py
ENTRYPOINT ["python3", "/opt/program/process.py"]
