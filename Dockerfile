# Amphora's container image: one executable, every component (`--target=...`).
#   docker build -t amphora:dev .
# Stage 1 builds with the .NET SDK; stage 2 runs on the ASP.NET runtime image as a non-root user. The root filesystem can
# be read-only: everything Amphora writes goes under /data (a volume) and /tmp (an emptyDir in the Helm chart).
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
# Restore first, from the project files alone, so that a source change does not invalidate the package layer.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY lib/ lib/
COPY distributor/ distributor/
COPY ingester/ ingester/
COPY querier/ querier/
COPY compactor/ compactor/
COPY operator/ operator/
COPY alertmanager/ alertmanager/
COPY server/ server/
RUN dotnet restore server/Amphora.Server.csproj
ARG AMPHORA_COMMIT=unknown
RUN dotnet publish server/Amphora.Server.csproj -c Release --no-restore -o /out \
      -p:SourceRevisionId=${AMPHORA_COMMIT} -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
# The distribution's Alertmanager package gives the Prometheus Alertmanager that --target=alertmanager (and all) runs per
# workspace (/usr/bin/prometheus-alertmanager, found on the PATH or named by --alertmanager.binary) and amtool, with which
# the control plane checks Alertmanager definitions and the operator AlertManagerDefinition configurations (without them
# definitions are refused with 503). The scrape collectors run their own image (--operator.collector-image).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus-alertmanager ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out /app
# The image's own non-root user (uid 1654, "app"); data under a volume it owns.
RUN mkdir -p /data && chown 1654:1654 /data
USER 1654:1654
WORKDIR /data
VOLUME ["/data"]
ENV DOTNET_gcServer=0 \
    DOTNET_EnableDiagnostics=0 \
    TMPDIR=/tmp
EXPOSE 9009 9095
ENTRYPOINT ["dotnet", "/app/amphora.dll"]
CMD ["--target=all", "--listen=0.0.0.0:9009", "--data-dir=/data"]
