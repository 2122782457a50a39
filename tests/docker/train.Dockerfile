# A custom training image: `train` on PATH, no ENTRYPOINT, so `docker run image train` runs it
# (reference §3.1). Built by build-images.sh from the debootstrap base; nothing is pulled.
FROM sagewatch-test/base:bookworm
COPY train /usr/local/bin/train
RUN chmod 0755 /usr/local/bin/train
CMD ["/bin/false"]
