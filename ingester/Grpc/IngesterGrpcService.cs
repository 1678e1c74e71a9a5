using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Protocol = Amphora.Cluster.Protocol;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;
using Grpc.Core;
using AppendStatus = Amphora.Storage.AppendStatus;
using IngesterProtocol = Amphora.Cluster.Protocol.Ingester;
using MetricMetadata = Amphora.Storage.MetricMetadata;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Ingester.Grpc;

/// <summary>What an ingester process serves over gRPC: its storage contracts and its ring identity.</summary>
public sealed record IngesterBackend(string InstanceName, IWorkspaceAppendable Appendable, IWorkspaceQueryable Queryable,
    IWorkspaceMetadata Metadata, Func<Protocol.InstanceState> State)
{
    /// <summary>Where exemplars are read; without it the ingester answers that it holds none.</summary>
    public IWorkspaceExemplars? Exemplars { get; init; }

    public bool Ready() => State() == Protocol.InstanceState.Active;
}

/// <summary>The server side of amphora.ingester.v1.Ingester, on the stub generated from ingester.proto.</summary>
public sealed class IngesterGrpcService(IngesterBackend backend) : IngesterProtocol.IngesterBase
{
    /// <summary>A QueryStream message closes at this many series or once its series reach <see cref="BytesPerMessage"/>
    /// encoded, so what one query has in flight is bounded by batches whatever the answer's size (a series is never split:
    /// one over the bound goes alone).</summary>
    private const int SeriesPerMessage = 256;
    private const int BytesPerMessage = 1 << 20;

    public override Task<PushResponse> Push(PushRequest request, ServerCallContext context) => PushAsync(request, context);

    public override Task QueryStream(QueryRequest request, IServerStreamWriter<QueryStreamResponse> responseStream, ServerCallContext context) =>
        QueryStreamAsync(request, responseStream, context);

    public override async Task<LabelNamesResponse> LabelNames(LabelNamesRequest request, ServerCallContext context)
    {
        using var q = backend.Queryable.ForWorkspace(Workspace(request.Workspace)).Querier(request.StartMs, request.EndMs);
        var reply = new LabelNamesResponse();
        reply.Names.AddRange(await q.LabelNamesAsync(Matchers(request.Matchers), context.CancellationToken));
        return reply;
    }

    public override async Task<LabelValuesResponse> LabelValues(LabelValuesRequest request, ServerCallContext context)
    {
        using var q = backend.Queryable.ForWorkspace(Workspace(request.Workspace)).Querier(request.StartMs, request.EndMs);
        var reply = new LabelValuesResponse();
        reply.Values.AddRange(await q.LabelValuesAsync(request.Name, Matchers(request.Matchers), context.CancellationToken));
        return reply;
    }

    public override async Task<MetadataResponse> Metadata(MetadataRequest request, ServerCallContext context)
    {
        var all = await backend.Metadata.MetadataAsync(Workspace(request.Workspace), request.Metric.Length == 0 ? null : request.Metric,
            request.Limit, request.LimitPerMetric, context.CancellationToken);
        var reply = new MetadataResponse();
        foreach (var (_, entries) in all)
            foreach (var m in entries)
                reply.Metadata.Add(new Protocol.MetricMetadata { MetricFamilyName = m.MetricFamilyName, Type = m.Type, Help = m.Help, Unit = m.Unit });
        return reply;
    }

    public override async Task<ExemplarsResponse> QueryExemplars(ExemplarsRequest request, ServerCallContext context)
    {
        string workspace = Workspace(request.Workspace);
        var sets = request.MatcherSets.Select(set => (IReadOnlyList<Amphora.Model.LabelMatcher>)Matchers(set.Matchers)).ToList();
        var reply = new ExemplarsResponse();
        if (backend.Exemplars is null || sets.Count == 0) return reply;
        foreach (var series in await backend.Exemplars.SelectExemplarsAsync(workspace, request.StartMs, request.EndMs, sets, context.CancellationToken))
        {
            var s = new Protocol.ExemplarSeries();
            ProtoConvert.AddLabels(s.SeriesLabels, series.SeriesLabels);
            foreach (var e in series.Exemplars) s.Exemplars.Add(ProtoConvert.ToProto(e));
            reply.Series.Add(s);
        }
        return reply;
    }

    public override Task<StateResponse> State(StateRequest request, ServerCallContext context) => Task.FromResult(new StateResponse
    {
        Instance = backend.InstanceName,
        State = backend.State(),
    });

    private static RpcException Error(StatusCode code, string message) => new(new Status(code, message));

    /// <summary>The request's workspace id, checked before it is used: an id that is not one is the caller's error.</summary>
    private static string Workspace(string id) =>
        WorkspaceIds.Validate(id) is { } invalid ? throw Error(StatusCode.InvalidArgument, invalid.Message) : id;

    /// <summary>The request's matchers; a bad one (an invalid regular expression) is the caller's error.</summary>
    private static List<Amphora.Model.LabelMatcher> Matchers(Google.Protobuf.Collections.RepeatedField<Protocol.LabelMatcher> matchers)
    {
        try
        {
            return ProtoConvert.ToMatchers(matchers);
        }
        catch (ArgumentException e)
        {
            throw Error(StatusCode.InvalidArgument, e.Message);
        }
    }

    private async Task<PushResponse> PushAsync(PushRequest request, ServerCallContext call)
    {
        if (!backend.Ready()) throw Error(StatusCode.Unavailable, $"ingester {backend.InstanceName} is not ready");
        string workspace = Workspace(request.Workspace);
        var histograms = PushHistograms.Decode(request);
        var appender = backend.Appendable.Appender(workspace);
        var response = new PushResponse();
        try
        {
            for (int i = 0; i < request.Series.Count; i++)
            {
                var s = request.Series[i];
                var labels = ProtoConvert.ToLabels(s.Labels);
                ulong seriesRef = 0;
                foreach (var sample in s.Samples)
                    Count(response, appender, i, sample.TimestampMs, false, appender.Append(ref seriesRef, labels, sample.TimestampMs, sample.Value, sample.StartTimestampMs));
                if (histograms is null) continue;
                foreach (var (t, h) in histograms[i].Integer)
                    Count(response, appender, i, t, true, appender.AppendHistogram(ref seriesRef, labels, t, h));
                foreach (var (t, h) in histograms[i].Float)
                    Count(response, appender, i, t, true, appender.AppendFloatHistogram(ref seriesRef, labels, t, h));
            }
            for (int i = 0; i < request.Series.Count; i++)
                foreach (var e in request.Series[i].Exemplars)
                    appender.AppendExemplar(ProtoConvert.ToLabels(request.Series[i].Labels), ProtoConvert.ToExemplar(e));
            foreach (var m in request.Metadata)
                appender.UpdateMetadata(new MetricMetadata(m.MetricFamilyName, m.Type, m.Help, m.Unit));
        }
        catch
        {
            appender.Rollback();
            throw;
        }
        await appender.CommitAsync(call.CancellationToken);
        return response;
    }

    /// <summary>Counts one sample's outcome into the response: accepted, or a rejection saying which sample and why.</summary>
    private static void Count(PushResponse response, IAppender appender, int series, long t, bool histogram, AppendStatus status)
    {
        if (status == AppendStatus.Ok)
        {
            response.SamplesAccepted++;
            return;
        }
        response.Rejections.Add(new SampleRejection
        {
            SeriesIndex = series, TimestampMs = t, Status = (Protocol.AppendStatus)(int)status, Histogram = histogram,
            Reason = appender.LastRejection?.Reason ?? "", Message = appender.LastRejection?.Message ?? "",
        });
    }

    private async Task QueryStreamAsync(QueryRequest request, IServerStreamWriter<QueryStreamResponse> writer, ServerCallContext call)
    {
        using var querier = backend.Queryable.ForWorkspace(Workspace(request.Workspace)).Querier(request.StartMs, request.EndMs);
        var set = await querier.SelectAsync(true, new SelectHints(request.StartMs, request.EndMs), Matchers(request.Matchers),
            call.CancellationToken);
        var batch = new QueryStreamResponse();
        int batchBytes = 0;
        ISampleIterator? reuse = null;
        var samples = new List<ChunkSample>();
        while (set.Next())
        {
            var series = set.At();
            var message = new StreamSeries();
            ProtoConvert.AddLabels(message.Labels, series.Labels);
            if (!request.LabelsOnly)
            {
                var it = series.Iterator(reuse);
                reuse = it;
                if (it is Amphora.Tsdb.ChunkSequenceIterator { Chunks: var stored })
                {
                    // The series is its stored chunks one after the other (a head series without out-of-order samples, or
                    // one block's): every chunk that overlaps the range goes as it is, its samples outside the range too
                    // (the querier reads only those inside), as Prometheus's ingesters send chunks.
                    foreach (var c in stored)
                        if (c.MaxT >= request.StartMs && c.MinT <= request.EndMs) StreamChunks.AddStored(message.Chunks, c);
                }
                else AddSamples(message.Chunks, it, request, samples);
            }
            batch.Series.Add(message);
            batchBytes += message.CalculateSize();
            if (batch.Series.Count == SeriesPerMessage || batchBytes >= BytesPerMessage)
            {
                await writer.WriteAsync(batch, call.CancellationToken);
                batch = new QueryStreamResponse();
                batchBytes = 0;
            }
        }
        if (set.Err is { } e) throw Error(StatusCode.Internal, e.Message);
        if (batch.Series.Count > 0) await writer.WriteAsync(batch, call.CancellationToken);
    }

    /// <summary>The samples of <paramref name="it"/> inside the request's range, encoded into chunks.</summary>
    private static void AddSamples(Google.Protobuf.Collections.RepeatedField<Protocol.Chunk> into, ISampleIterator it, QueryRequest request,
        List<ChunkSample> samples)
    {
        samples.Clear();
        for (var state = it.Seek(request.StartMs); state != ValueType.None; state = it.Next())
        {
            if (it.AtT() > request.EndMs) break;
            samples.Add(StreamChunks.Sample(it, state));
        }
        if (it.Err is { } err) throw Error(StatusCode.Internal, err.Message);
        StreamChunks.Add(into, samples);
    }
}
