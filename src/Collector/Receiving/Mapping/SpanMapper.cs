using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Receiving.Privacy;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>What one OTLP request produced: the records, and the items refused with the reasons (partial_success).</summary>
internal sealed record MappingResult(IngestBatch Batch, long Received, long Rejected, string? ErrorMessage);

/// <summary>
/// Turns an OTLP trace export into PerfOtel records: agent invocations, provider calls, tool calls and evaluation
/// events. Spans that are not GenAI operations produce no record. Every span (GenAI or not) also yields its parent
/// link: the agent of a call is resolved here when its nearest invoke_agent ancestor is in the same request, and
/// otherwise by the ingest writer's <c>SpanAttribution</c> from the links of other requests, whatever order they
/// arrive in (the SDKs export spans as they end, not per trace: docs/architecture.md, "Attribution").
/// </summary>
internal sealed class SpanMapper(IModelPricing pricing, PrivacyPolicy? privacy = null, TimeProvider? time = null)
{
    private readonly PrivacyPolicy _privacy = privacy ?? PrivacyPolicy.Default;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Token counts above this (a trillion) on one span are a client bug or an attack, and read as absent.</summary>
    public const long MaxTokenCount = 1_000_000_000_000;

    /// <summary>A cost above this (a million USD) on one span is read as absent, so one span cannot swamp every total.</summary>
    public const double MaxCostUsd = 1_000_000;

    public const string DefaultTenant = "default";
    public const string UnknownName = "unknown";
    private const string OtherError = "_OTHER";

    /// <param name="request">The export request, as Google.Protobuf decoded it (OTLP/JSON, tests).</param>
    /// <param name="forcedTenant">The authenticated tenant: when set it wins over every <c>perfotel.tenant</c> attribute.</param>
    public MappingResult Map(ExportTraceServiceRequest request, string? forcedTenant = null) => Map(TraceRequestInput.From(request), forcedTenant);

    /// <param name="request">The export request as read from its bytes (<see cref="OtlpTraceWireReader"/>) or from Google.Protobuf's objects.</param>
    /// <param name="forcedTenant">The authenticated tenant: when set it wins over every <c>perfotel.tenant</c> attribute.</param>
    public MappingResult Map(TraceRequestInput request, string? forcedTenant = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var batch = new IngestBatch();
        var rejections = new RejectionLog();
        var received = 0L;
        // Sized once for the request's spans: grown by doubling, the lookup table and the lists allocated about twice
        // their final size again for every request (#21).
        var spanCount = request.Spans.Count;
        var spans = new List<MappedSpan>(spanCount);
        var window = PlausibleTime.Window(_time);
        var byId = new Dictionary<(string TraceId, string SpanId), MappedSpan>(spanCount);
        batch.SpanLinks.Capacity = spanCount;
        var (invocations, inferences, tools) = (0, 0, 0);
        // Spans of one trace come together: they share one trace id string (records and span links hold it for as long
        // as the attribution keeps the links, so one copy per trace rather than per span).
        var lastTraceId = ReadOnlyMemory<byte>.Empty;
        var lastTraceHex = string.Empty;
        string TraceHex(ReadOnlyMemory<byte> id)
        {
            if (!id.Span.SequenceEqual(lastTraceId.Span) || lastTraceHex.Length == 0)
            {
                lastTraceId = id;
                lastTraceHex = OtlpIds.Hex(id.Span);
            }
            return lastTraceHex;
        }

        AttributeBag? lastResource = null;
        string? resourceTenant = null, serviceName = null;
        foreach (var span in request.Spans)
        {
            if (!ReferenceEquals(span.Resource, lastResource))
            {
                lastResource = span.Resource;
                resourceTenant = lastResource.String(PerfOtelAttributes.Tenant);
                serviceName = lastResource.String(OtelAttributes.ServiceName);
            }

            received++;
            if (Validate(span, window) is { } problem)
            {
                rejections.Add(problem);
                continue;
            }

            var attributes = span.Attributes;
            var role = SpanRole.Classify(span, attributes);
            var hasEvaluation = HasEvaluationEvent(span);
            if (role.Kind == SpanRoleKind.Other && !hasEvaluation && span.ParentSpanId.IsEmpty)
            {
                // A root that is no GenAI operation (an HTTP server span, a job): no record, but calls below it
                // exported in other requests learn from its link that they have no agent.
                batch.SpanLinks.Add(new SpanLink
                {
                    Tenant = forcedTenant ?? attributes.String(PerfOtelAttributes.Tenant) ?? resourceTenant ?? DefaultTenant,
                    TraceId = TraceHex(span.TraceId),
                    SpanId = OtlpIds.Hex(span.SpanId.Span),
                });
                continue;
            }

            var mapped = new MappedSpan(span, attributes, role, TraceHex(span.TraceId), OtlpIds.Hex(span.SpanId.Span),
                OtlpIds.HexOrNull(span.ParentSpanId.Span), resourceTenant, serviceName) { ForcedTenant = forcedTenant, HasEvaluation = hasEvaluation };
            spans.Add(mapped);
            byId[(mapped.TraceId, mapped.SpanId)] = mapped;
            invocations += role.Kind == SpanRoleKind.Invocation ? 1 : 0;
            inferences += role.Kind == SpanRoleKind.Inference ? 1 : 0;
            tools += role.Kind == SpanRoleKind.Tool ? 1 : 0;
        }

        var layers = InferenceLayers.Find(spans, byId);
        batch.Invocations.Capacity = invocations;
        batch.ProviderCalls.Capacity = inferences;
        batch.ToolCalls.Capacity = tools;
        var passed = new List<MappedSpan>();
        foreach (var span in spans)
        {
            var invocation = span.Role.Kind == SpanRoleKind.Invocation ? span : FindInvocation(span, byId, passed);
            // Decided once per span: its link and its record carry the same tenant.
            var tenant = span.Role.Kind == SpanRoleKind.Invocation ? Tenant(span, span) : Tenant(span, invocation);
            batch.SpanLinks.Add(new SpanLink
            {
                Tenant = tenant,
                TraceId = span.TraceId,
                SpanId = span.SpanId,
                // The parent's own span id string when the parent came in this request: one copy per id.
                ParentSpanId = span.ParentSpanId is { } parentId && byId.TryGetValue((span.TraceId, parentId), out var parent)
                    ? parent.SpanId : span.ParentSpanId,
                InvocationAgent = span.Role.Kind == SpanRoleKind.Invocation ? AgentName(span) : null,
            });
            switch (span.Role.Kind)
            {
                case SpanRoleKind.Invocation:
                    batch.Invocations.Add(ToInvocation(span, tenant));
                    break;
                case SpanRoleKind.Inference when !layers.IsWrapper(span):
                    batch.ProviderCalls.Add(ToProviderCall(span, invocation, layers.WrappersOf(span), tenant));
                    break;
                case SpanRoleKind.Tool:
                    batch.ToolCalls.Add(ToToolCall(span, invocation, tenant));
                    break;
            }

            AddEvaluations(span, invocation, batch, tenant);
        }

        return new MappingResult(batch, received, rejections.Count, rejections.Message("spans"));
    }

    private static bool HasEvaluationEvent(SpanInput span)
    {
        // Indexed rather than LINQ: no enumerator per span.
        for (var i = 0; i < span.Events.Length; i++)
        {
            if (span.Events[i].NameIs(GenAiEvents.EvaluationResult))
            {
                return true;
            }
        }

        return false;
    }

    private static string? Validate(SpanInput span, PlausibleTime window)
    {
        if (!OtlpIds.IsValidTraceId(span.TraceId.Span))
        {
            return "trace_id must be 16 bytes, not all zero";
        }

        if (!OtlpIds.IsValidSpanId(span.SpanId.Span))
        {
            return "span_id must be 8 bytes, not all zero";
        }

        if (!span.ParentSpanId.IsEmpty && span.ParentSpanId.Length != OtlpIds.SpanIdBytes)
        {
            return "parent_span_id must be empty or 8 bytes";
        }

        if (span.StartTimeUnixNano == 0)
        {
            return "start_time_unix_nano is missing";
        }

        if (span.EndTimeUnixNano < span.StartTimeUnixNano)
        {
            return "end_time_unix_nano is before start_time_unix_nano";
        }

        if (span.StartTimeUnixNano < window.EarliestUnixNano)
        {
            return "start_time_unix_nano is before " + PlausibleTime.EarliestText;
        }

        // The end bounds the start too; a span that ends in the far future would sit at the head of every
        // time-ordered view and in windows that have not begun.
        if (span.EndTimeUnixNano > window.LatestUnixNano)
        {
            return "end_time_unix_nano is more than " + PlausibleTime.MaxClockSkewText + " ahead of the collector's clock";
        }

        return null;
    }

    /// <summary>Nearest invoke_agent ancestor within the request, or null (a call made outside any agent invocation).</summary>
    /// <param name="span">The span.</param>
    /// <param name="byId">The request's spans by trace and span id.</param>
    /// <param name="visited">Scratch list reused across the request's spans (one list per request, not per span).</param>
    private static MappedSpan? FindInvocation(MappedSpan span, Dictionary<(string, string), MappedSpan> byId, List<MappedSpan> visited)
    {
        if (span.InvocationResolved)
        {
            return span.Invocation;
        }

        // Iterative walk with a step bound (a malformed request may carry a parent cycle); every span passed on the
        // way learns the answer too, so a deep chain is walked once, not once per descendant.
        visited.Clear();
        visited.Add(span);
        var current = span;
        MappedSpan? found = null;
        while (current.ParentSpanId is { } parentId && visited.Count <= byId.Count
               && byId.TryGetValue((current.TraceId, parentId), out var parent))
        {
            if (parent.Role.Kind == SpanRoleKind.Invocation)
            {
                found = parent;
                break;
            }

            if (parent.InvocationResolved)
            {
                found = parent.Invocation;
                break;
            }

            visited.Add(parent);
            current = parent;
        }

        foreach (var passed in visited)
        {
            passed.Invocation = found;
            passed.InvocationResolved = true;
        }

        return found;
    }

    private static string Tenant(MappedSpan span, MappedSpan? invocation) =>
        span.ForcedTenant
        ?? span.Attributes.String(PerfOtelAttributes.Tenant)
        ?? invocation?.Attributes.String(PerfOtelAttributes.Tenant)
        ?? span.ResourceTenant
        ?? DefaultTenant;

    // Every call, tool call, evaluation and link under one invocation carries its agent: read once per invocation span.
    private static string AgentName(MappedSpan invocation) => invocation.AgentName ??= ReadAgentName(invocation);

    private static string ReadAgentName(MappedSpan invocation) => BoundedName.Normalize(
        invocation.Attributes.FirstString(GenAiAttributes.AgentName, OpenInferenceAttributes.AgentName, OpenLlmetryAttributes.EntityName)
        ?? NameAfterOperation(invocation.Span.Name, GenAiOperations.InvokeAgent)
        ?? invocation.Attributes.String(GenAiAttributes.AgentId)
        ?? UnknownName);

    private static string? Bounded(string? name) => name is null ? null : BoundedName.Normalize(name);

    private static string? NameAfterOperation(string spanName, string operation) =>
        spanName.Length > operation.Length + 1 && spanName.StartsWith(operation, StringComparison.Ordinal) && spanName[operation.Length] == ' '
            ? StoredText.Clean(spanName[(operation.Length + 1)..])
            : null;

    /// <param name="span">The invoke_agent span.</param>
    /// <param name="tenant">Its tenant (<see cref="Tenant"/>): the privacy decision follows the tenant the record is stored under.</param>
    private AgentInvocation ToInvocation(MappedSpan span, string tenant)
    {
        var a = span.Attributes;
        var errorType = ErrorType(span);
        return new AgentInvocation
        {
            Tenant = tenant,
            TraceId = span.TraceId,
            SpanId = span.SpanId,
            ParentSpanId = span.ParentSpanId,
            ServiceName = span.ServiceName,
            AgentName = AgentName(span),
            AgentId = a.String(GenAiAttributes.AgentId),
            AgentType = a.String(PerfOtelAttributes.AgentType),
            TaskId = a.String(PerfOtelAttributes.TaskId),
            TaskType = a.String(PerfOtelAttributes.TaskType),
            JobId = a.String(PerfOtelAttributes.JobId),
            ConversationId = a.FirstString(GenAiAttributes.ConversationId, OpenInferenceAttributes.SessionId),
            Experiment = a.String(PerfOtelAttributes.Experiment),
            Variant = a.String(PerfOtelAttributes.Variant),
            StartTime = OtlpIds.Time(span.Span.StartTimeUnixNano),
            DurationSeconds = Duration(span.Span),
            Outcome = Outcome(span),
            ErrorType = errorType,
            Confidence = UnitInterval(a.Double(PerfOtelAttributes.Confidence)),
            Quality = UnitInterval(a.Double(PerfOtelAttributes.Quality)),
            Tokens = Tokens(a),
            CostUsd = Cost(a),
            AttributesJson = _privacy.StoredAttributesJson(span.Attributes, tenant),
            SampleWeight = span.SampleWeight,
        };
    }

    /// <param name="span">The call: the innermost inference span.</param>
    /// <param name="invocation">Its agent invocation, if any.</param>
    /// <param name="wrappers">The layers that reported the same call (nearest first): each figure the call's own span
    /// lacks is taken from the nearest layer that has it.</param>
    /// <param name="tenant">The call's tenant (<see cref="Tenant"/>).</param>
    private ProviderCall ToProviderCall(MappedSpan span, MappedSpan? invocation, IReadOnlyList<MappedSpan> wrappers, string tenant)
    {
        T? Layered<T>(Func<AttributeBag, T?> read) where T : class
        {
            var value = read(span.Attributes);
            for (var i = 0; value is null && i < wrappers.Count; i++)
            {
                value = read(wrappers[i].Attributes);
            }

            return value;
        }

        T? LayeredValue<T>(Func<AttributeBag, T?> read) where T : struct
        {
            var value = read(span.Attributes);
            for (var i = 0; value is null && i < wrappers.Count; i++)
            {
                value = read(wrappers[i].Attributes);
            }

            return value;
        }

        var tokens = Tokens(span.Attributes);
        foreach (var wrapper in wrappers)
        {
            tokens = FillGaps(tokens, Tokens(wrapper.Attributes));
        }

        var requestModel = Bounded(Layered(a => a.FirstString(GenAiAttributes.RequestModel, OpenInferenceAttributes.ModelName)));
        var responseModel = Bounded(Layered(a => a.FirstString(GenAiAttributes.ResponseModel, OpenInferenceAttributes.ModelName)));
        var provider = Bounded(Layered(a => a.FirstString(GenAiAttributes.ProviderName, GenAiAttributes.SystemDeprecated,
                OpenInferenceAttributes.Provider, OpenInferenceAttributes.System, OpenLlmetryAttributes.Vendor))
            ?? Layered(a => ProviderHosts.ProviderOf(a.String(GenAiAttributes.ServerAddress))));

        var cost = LayeredValue(Cost);
        var unpriced = 0L;
        if (cost is null && tokens != default)
        {
            // The model that answered is the one billed; the requested one is only known when the response lacks it.
            var model = responseModel ?? requestModel;
            if (model is not null && pricing.TryComputeCost(provider, model, tokens, out var priced))
            {
                cost = priced;
            }
            else
            {
                unpriced = tokens.Total;
            }
        }

        return new ProviderCall
        {
            Tenant = tenant,
            TraceId = span.TraceId,
            SpanId = span.SpanId,
            ParentSpanId = span.ParentSpanId,
            InvocationSpanId = invocation?.SpanId,
            AgentName = invocation is null ? null : AgentName(invocation),
            Operation = span.Role.Operation ?? GenAiOperations.Chat,
            Provider = provider ?? UnknownName,
            RequestModel = requestModel,
            ResponseModel = responseModel,
            StartTime = OtlpIds.Time(span.Span.StartTimeUnixNano),
            DurationSeconds = Duration(span.Span),
            Tokens = tokens,
            CostUsd = cost,
            UnpricedTokens = unpriced,
            Attempt = (int)Math.Clamp(LayeredValue(a => a.Long(PerfOtelAttributes.RetryAttempt)) ?? 1, 1, int.MaxValue),
            FallbackFrom = Layered(a => a.String(PerfOtelAttributes.FallbackFrom)),
            FallbackReason = Layered(a => a.String(PerfOtelAttributes.FallbackReason)),
            ErrorType = ErrorType(span) ?? wrappers.Select(ErrorType).FirstOrDefault(e => e is not null),
            SampleWeight = span.SampleWeight,
        };
    }

    private static TokenCounts FillGaps(TokenCounts own, TokenCounts layer) => new(
        own.Input > 0 ? own.Input : layer.Input,
        own.Output > 0 ? own.Output : layer.Output,
        own.CacheRead > 0 ? own.CacheRead : layer.CacheRead,
        own.CacheCreation > 0 ? own.CacheCreation : layer.CacheCreation,
        own.Reasoning > 0 ? own.Reasoning : layer.Reasoning);

    private static ToolCall ToToolCall(MappedSpan span, MappedSpan? invocation, string tenant) => new()
    {
        Tenant = tenant,
        TraceId = span.TraceId,
        SpanId = span.SpanId,
        ParentSpanId = span.ParentSpanId,
        InvocationSpanId = invocation?.SpanId,
        AgentName = invocation is null ? null : AgentName(invocation),
        ToolName = BoundedName.Normalize(
            span.Attributes.FirstString(GenAiAttributes.ToolName, OpenInferenceAttributes.ToolName, OpenLlmetryAttributes.EntityName)
            ?? NameAfterOperation(span.Span.Name, GenAiOperations.ExecuteTool)
            ?? UnknownName),
        ToolCallId = span.Attributes.String(GenAiAttributes.ToolCallId),
        StartTime = OtlpIds.Time(span.Span.StartTimeUnixNano),
        DurationSeconds = Duration(span.Span),
        ErrorType = ErrorType(span),
        SampleWeight = span.SampleWeight,
    };

    private void AddEvaluations(MappedSpan span, MappedSpan? invocation, IngestBatch batch, string tenant)
    {
        if (!span.HasEvaluation)
        {
            return;
        }

        var window = PlausibleTime.Window(_time);
        for (var i = 0; i < span.Span.Events.Length; i++)
        {
            var evt = span.Span.Events[i];
            if (!evt.NameIs(GenAiEvents.EvaluationResult))
            {
                continue;
            }

            var attributes = evt.Attributes();
            batch.Evaluations.Add(new EvaluationRecord
            {
                Tenant = tenant,
                TraceId = span.TraceId,
                SpanId = span.SpanId,
                Sequence = i,
                AgentName = invocation is null ? null : AgentName(invocation),
                Name = attributes.String(GenAiAttributes.EvaluationName) ?? UnknownName,
                Score = attributes.Double(GenAiAttributes.EvaluationScoreValue),
                Label = attributes.String(GenAiAttributes.EvaluationScoreLabel),
                // An event's own time is only trusted within the span's plausible range; else the span's end stands in.
                Time = OtlpIds.Time(window.Contains(evt.TimeUnixNano) ? evt.TimeUnixNano : span.Span.EndTimeUnixNano),
                SampleWeight = span.SampleWeight,
            });
        }
    }

    /// <summary>Token counts from the current names, else the deprecated ones, else OpenLLMetry's and OpenInference's.</summary>
    internal static TokenCounts Tokens(AttributeBag a)
    {
        var input = a.FirstLong(GenAiAttributes.UsageInputTokens, GenAiAttributes.UsagePromptTokensDeprecated,
            OpenLlmetryAttributes.UsagePromptTokens, OpenInferenceAttributes.TokenCountPrompt, LegacyGenAiAttributes.ResponsePromptTokens);
        var output = a.FirstLong(GenAiAttributes.UsageOutputTokens, GenAiAttributes.UsageCompletionTokensDeprecated,
            OpenLlmetryAttributes.UsageCompletionTokens, OpenInferenceAttributes.TokenCountCompletion, LegacyGenAiAttributes.ResponseCompletionTokens);
        if (input is null && output is null)
        {
            // Embedding spans of some libraries report only a total, which is all input.
            input = a.FirstLong(OpenLlmetryAttributes.UsageTotalTokens, OpenInferenceAttributes.TokenCountTotal);
        }

        return new TokenCounts(
            Count(input),
            Count(output),
            Count(a.FirstLong(GenAiAttributes.UsageCacheReadInputTokens, LegacyGenAiAttributes.UsageCacheReadInputTokens,
                OpenLlmetryAttributes.UsageCacheReadInputTokens, OpenInferenceAttributes.TokenCountCacheRead)),
            Count(a.FirstLong(GenAiAttributes.UsageCacheCreationInputTokens, RenamedGenAiAttributes.UsageCacheWriteInputTokens,
                LegacyGenAiAttributes.UsageCacheCreationInputTokens, OpenInferenceAttributes.TokenCountCacheWrite)),
            Count(a.FirstLong(GenAiAttributes.UsageReasoningOutputTokens, LegacyGenAiAttributes.UsageReasoningTokens,
                OpenLlmetryAttributes.UsageReasoningTokens, OpenInferenceAttributes.TokenCountReasoning)));
    }

    private static long Count(long? value) => value is > 0 and <= MaxTokenCount ? value.Value : 0;

    private static double? Cost(AttributeBag a) => a.Double(PerfOtelAttributes.CostUsd) is { } cost and >= 0 and <= MaxCostUsd ? cost : null;

    private static string Outcome(MappedSpan span) => span.Attributes.String(PerfOtelAttributes.Outcome) switch
    {
        Outcomes.Success => Outcomes.Success,
        Outcomes.Failure => Outcomes.Failure,
        Outcomes.Partial => Outcomes.Partial,
        // Other instrumentations do not say: an Error status is a failure, anything else a success.
        _ => span.Span.StatusIsError ? Outcomes.Failure : Outcomes.Success,
    };

    private static string? ErrorType(MappedSpan span)
    {
        if (span.Attributes.String(GenAiAttributes.ErrorType) is { } declared)
        {
            return declared;
        }

        if (!span.Span.StatusIsError)
        {
            return null;
        }

        foreach (var evt in span.Span.Events)
        {
            if (evt.NameIs(OtelAttributes.ExceptionEvent) && evt.Attributes().String(OtelAttributes.ExceptionType) is { } type)
            {
                return type;
            }
        }

        return OtherError;
    }

    private static double Duration(SpanInput span) => (span.EndTimeUnixNano - span.StartTimeUnixNano) / 1e9;

    private static double? UnitInterval(double? value) => value is >= 0 and <= 1 ? value : null;


    /// <summary>
    /// Several layers report one model call: Agent Framework's and Microsoft.Extensions.AI's chat spans wrap the OpenAI
    /// SDK's, PerfOtel's chat client may wrap either. An inference span with an inference span below it (before any
    /// invoke_agent) is a wrapper layer: the innermost span is the call, stored once, and what only a wrapper knows
    /// (cached tokens, cost, retry attempt, provider) fills the gaps of its single inner call. Followed within the
    /// request, like the agent of a call: the layers of one call end within microseconds of each other and are
    /// exported together.
    /// </summary>
    private sealed class InferenceLayers
    {
        private readonly Dictionary<MappedSpan, List<MappedSpan>> _innerByWrapper = [];
        private readonly Dictionary<MappedSpan, MappedSpan> _wrapperByInner = [];

        public static InferenceLayers Find(List<MappedSpan> spans, Dictionary<(string, string), MappedSpan> byId)
        {
            var layers = new InferenceLayers();
            foreach (var span in spans)
            {
                if (span.Role.Kind == SpanRoleKind.Inference && NearestInferenceAncestor(span, byId) is { } wrapper)
                {
                    if (!layers._innerByWrapper.TryGetValue(wrapper, out var inner))
                    {
                        layers._innerByWrapper[wrapper] = inner = [];
                    }

                    inner.Add(span);
                    layers._wrapperByInner[span] = wrapper;
                }
            }

            return layers;
        }

        public bool IsWrapper(MappedSpan span) => _innerByWrapper.ContainsKey(span);

        /// <summary>
        /// The layers around this call that reported it alone, nearest first. A wrapper around several calls (a client
        /// that retried under one span) gives none of its figures to any of them: they would be counted once per call.
        /// </summary>
        public IReadOnlyList<MappedSpan> WrappersOf(MappedSpan span)
        {
            List<MappedSpan>? wrappers = null;
            var current = span;
            while (_wrapperByInner.TryGetValue(current, out var wrapper) && _innerByWrapper[wrapper].Count == 1
                   && (wrappers is null || !wrappers.Contains(wrapper)))
            {
                (wrappers ??= []).Add(wrapper);
                current = wrapper;
            }

            return wrappers ?? (IReadOnlyList<MappedSpan>)[];
        }

        private static MappedSpan? NearestInferenceAncestor(MappedSpan span, Dictionary<(string, string), MappedSpan> byId)
        {
            var current = span;
            for (var steps = 0; steps < byId.Count && current.ParentSpanId is { } parentId
                 && byId.TryGetValue((current.TraceId, parentId), out var parent); steps++)
            {
                switch (parent.Role.Kind)
                {
                    case SpanRoleKind.Inference:
                        return parent;
                    case SpanRoleKind.Invocation:
                        return null;
                }

                current = parent;
            }

            return null;
        }
    }

    private sealed class MappedSpan(SpanInput span, AttributeBag attributes, SpanRole role, string traceId, string spanId,
        string? parentSpanId, string? resourceTenant, string? serviceName)
    {
        public SpanInput Span { get; } = span;
        public AttributeBag Attributes { get; } = attributes;
        public SpanRole Role { get; } = role;
        public string TraceId { get; } = traceId;
        public string SpanId { get; } = spanId;
        public string? ParentSpanId { get; } = parentSpanId;
        public string? ResourceTenant { get; } = resourceTenant;
        public string? ForcedTenant { get; init; }
        public string? ServiceName { get; } = serviceName;

        /// <summary>The span's adjusted count (how many spans it stands for), from what its sampler recorded.</summary>
        public double SampleWeight { get; } = SamplingWeight.Of(span);

        public bool InvocationResolved { get; set; }
        public MappedSpan? Invocation { get; set; }

        /// <summary>Whether the span carries a gen_ai.evaluation.result event.</summary>
        public bool HasEvaluation { get; init; }

        /// <summary>For an invoke_agent span: its agent's name once read.</summary>
        public string? AgentName { get; set; }
    }
}
