using OpenTelemetry.Proto.Trace.V1;
using ProtoSpan = OpenTelemetry.Proto.Trace.V1.Span;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Receiving.Privacy;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>Span-to-record mapping for the current GenAI conventions and the older ones libraries still emit.</summary>
public sealed class SpanMapperTests
{
    /// <summary>Prices per million tokens for a few models; everything else unpriced.</summary>
    private sealed class TablePricing : IModelPricing
    {
        public bool TryComputeCost(string? provider, string model, TokenCounts tokens, out double costUsd)
        {
            (double In, double Out)? price = model switch
            {
                "gpt-4o" => (2.5, 10.0),
                "claude-sonnet-4" => (3.0, 15.0),
                _ => null,
            };
            costUsd = price is { } p ? (tokens.Input * p.In + tokens.Output * p.Out) / 1e6 : 0;
            return price is not null;
        }
    }

    private static readonly SpanMapper Mapper = new(new TablePricing());

    // Every case maps through both decoders (Google.Protobuf's objects and the wire reader) and checks they agree (#21).
    private static IngestBatch Map(IEnumerable<ProtoSpan> spans, params (string, object)[] resource) => BothDecoders.Map(Mapper, Traces(spans, resource)).Batch;

    [Fact]
    public void CurrentConventions_FillEveryInvocationField()
    {
        var agent = Span("invoke_agent planner", TraceId(1), SpanId(1), SpanId(99), 2.5,
            (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
            (GenAiAttributes.AgentName, "planner"),
            (GenAiAttributes.AgentId, "agent-7"),
            (GenAiAttributes.ConversationId, "conv-1"),
            (PerfOtelAttributes.Tenant, "acme"),
            (PerfOtelAttributes.AgentType, "planning"),
            (PerfOtelAttributes.TaskId, "t-1"),
            (PerfOtelAttributes.TaskType, "refund"),
            (PerfOtelAttributes.JobId, "j-1"),
            (PerfOtelAttributes.Experiment, "prompt-v2"),
            (PerfOtelAttributes.Variant, "B"),
            (PerfOtelAttributes.Outcome, Outcomes.Partial),
            (PerfOtelAttributes.Confidence, 0.65),
            (PerfOtelAttributes.Quality, 0.9),
            (PerfOtelAttributes.CostUsd, 0.012),
            (GenAiAttributes.UsageInputTokens, 100L),
            (GenAiAttributes.UsageOutputTokens, 20L),
            (GenAiAttributes.UsageCacheReadInputTokens, 30L),
            (GenAiAttributes.UsageCacheCreationInputTokens, 5L),
            (GenAiAttributes.UsageReasoningOutputTokens, 7L));
        agent.Kind = ProtoSpan.Types.SpanKind.Client;

        var invocation = Assert.Single(Map([agent], ("service.name", "planner-svc")).Invocations);

        Assert.Equal(new AgentInvocation
        {
            Tenant = "acme",
            TraceId = Hex(TraceId(1)),
            SpanId = Hex(SpanId(1)),
            ParentSpanId = Hex(SpanId(99)),
            ServiceName = "planner-svc",
            AgentName = "planner",
            AgentId = "agent-7",
            AgentType = "planning",
            TaskId = "t-1",
            TaskType = "refund",
            JobId = "j-1",
            ConversationId = "conv-1",
            Experiment = "prompt-v2",
            Variant = "B",
            StartTime = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
            DurationSeconds = 2.5,
            Outcome = Outcomes.Partial,
            ErrorType = null,
            Confidence = 0.65,
            Quality = 0.9,
            Tokens = new TokenCounts(100, 20, 30, 5, 7),
            CostUsd = 0.012,
        }, invocation);
    }

    [Fact]
    public void InferenceSpan_CurrentConventions_WithRetryAndFallback()
    {
        var chat = Span("chat gpt-4o", TraceId(1), SpanId(2), durationSeconds: 0.75, attributes:
        [
            (GenAiAttributes.OperationName, GenAiOperations.Chat),
            (GenAiAttributes.ProviderName, "openai"),
            (GenAiAttributes.RequestModel, "gpt-4o"),
            (GenAiAttributes.ResponseModel, "gpt-4o-2024-08-06"),
            (GenAiAttributes.UsageInputTokens, 1000L),
            (GenAiAttributes.UsageOutputTokens, 200L),
            (PerfOtelAttributes.RetryAttempt, 3L),
            (PerfOtelAttributes.FallbackFrom, "anthropic/claude-sonnet-4"),
            (PerfOtelAttributes.FallbackReason, "rate_limited"),
            (GenAiAttributes.ErrorType, "429"),
        ]);

        var call = Assert.Single(Map([chat]).ProviderCalls);

        Assert.Equal(GenAiOperations.Chat, call.Operation);
        Assert.Equal("openai", call.Provider);
        Assert.Equal("gpt-4o", call.RequestModel);
        Assert.Equal("gpt-4o-2024-08-06", call.ResponseModel);
        Assert.Equal(0.75, call.DurationSeconds);
        Assert.Equal(3, call.Attempt);
        Assert.Equal("anthropic/claude-sonnet-4", call.FallbackFrom);
        Assert.Equal("rate_limited", call.FallbackReason);
        Assert.Equal("429", call.ErrorType);
        Assert.Null(call.AgentName);
        Assert.Null(call.InvocationSpanId);
        Assert.Equal(SpanMapper.DefaultTenant, call.Tenant);
        // The dated response model is not in the table, so the requested one is not used to guess: unpriced.
        Assert.Null(call.CostUsd);
        Assert.Equal(1200, call.UnpricedTokens);
    }

    [Theory]
    [InlineData(GenAiOperations.Chat)]
    [InlineData(GenAiOperations.TextCompletion)]
    [InlineData(GenAiOperations.GenerateContent)]
    [InlineData(GenAiOperations.Embeddings)]
    public void EveryInferenceOperation_ByAttributeOrBySpanName_IsAProviderCall(string operation)
    {
        var byAttribute = Span("llm call", TraceId(1), SpanId(1), attributes: [(GenAiAttributes.OperationName, operation)]);
        var byName = Span(operation + " some-model", TraceId(1), SpanId(2));

        var calls = Map([byAttribute, byName]).ProviderCalls;

        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal(operation, c.Operation));
    }

    [Fact]
    public void DeprecatedGenAiNames_GenAiSystemAndPromptCompletionTokens_AreRead()
    {
        var chat = Span("chat claude-sonnet-4", TraceId(1), SpanId(1), attributes:
        [
            (GenAiAttributes.SystemDeprecated, "anthropic"),
            (GenAiAttributes.RequestModel, "claude-sonnet-4"),
            (GenAiAttributes.UsagePromptTokensDeprecated, 1000L),
            (GenAiAttributes.UsageCompletionTokensDeprecated, "100"),
            ("gen_ai.usage.cache_read_input_tokens", 400L),
            ("gen_ai.usage.cache_creation_input_tokens", 50L),
        ]);

        var call = Assert.Single(Map([chat]).ProviderCalls);

        Assert.Equal("anthropic", call.Provider);
        Assert.Equal(new TokenCounts(1000, 100, 400, 50, 0), call.Tokens);
        Assert.Equal((1000 * 3.0 + 100 * 15.0) / 1e6, call.CostUsd!.Value, 12);
        Assert.Equal(0, call.UnpricedTokens);
    }

    [Fact]
    public void OpenLlmetrySpans_AreReadByRequestTypeAndLlmUsage()
    {
        var chat = Span("openai.chat", TraceId(1), SpanId(1), attributes:
        [
            ("llm.request.type", "chat"),
            (GenAiAttributes.SystemDeprecated, "openai"),
            (GenAiAttributes.RequestModel, "gpt-4o"),
            ("llm.usage.prompt_tokens", 10L),
            ("llm.usage.completion_tokens", 5.0),
            ("llm.usage.total_tokens", 15L),
        ]);
        var embedding = Span("openai.embeddings", TraceId(1), SpanId(2), attributes:
        [
            ("llm.request.type", "embedding"),
            ("llm.vendor", "openai"),
            ("llm.usage.total_tokens", 64L),
        ]);
        var agent = Span("support.agent", TraceId(1), SpanId(3), attributes:
            [("traceloop.span.kind", "agent"), ("traceloop.entity.name", "support")]);
        var tool = Span("lookup.tool", TraceId(1), SpanId(4), SpanId(3), attributes:
            [("traceloop.span.kind", "tool"), ("traceloop.entity.name", "lookup")]);

        var batch = Map([chat, embedding, agent, tool]);

        var chatCall = batch.ProviderCalls.Single(c => c.Operation == GenAiOperations.Chat);
        Assert.Equal(new TokenCounts(10, 5, 0, 0, 0), chatCall.Tokens);
        Assert.Equal((10 * 2.5 + 5 * 10.0) / 1e6, chatCall.CostUsd!.Value, 12);
        var embeddingCall = batch.ProviderCalls.Single(c => c.Operation == GenAiOperations.Embeddings);
        Assert.Equal("openai", embeddingCall.Provider);
        Assert.Equal(64, embeddingCall.Tokens.Input);
        Assert.Equal("support", Assert.Single(batch.Invocations).AgentName);
        var toolCall = Assert.Single(batch.ToolCalls);
        Assert.Equal("lookup", toolCall.ToolName);
        Assert.Equal("support", toolCall.AgentName);
    }

    [Fact]
    public void OpenInferenceSpans_AreReadBySpanKindAndTokenCounts()
    {
        var agent = Span("Agent", TraceId(1), SpanId(1), attributes:
            [("openinference.span.kind", "AGENT"), ("agent.name", "researcher"), ("session.id", "s-9")]);
        var llm = Span("ChatCompletion", TraceId(1), SpanId(2), SpanId(1), attributes:
        [
            ("openinference.span.kind", "LLM"),
            ("llm.provider", "anthropic"),
            ("llm.model_name", "claude-sonnet-4"),
            ("llm.token_count.prompt", 200L),
            ("llm.token_count.completion", 50L),
            ("llm.token_count.prompt_details.cache_read", 100L),
            ("llm.token_count.prompt_details.cache_write", 20L),
            ("llm.token_count.completion_details.reasoning", 10L),
        ]);
        var tool = Span("web_search", TraceId(1), SpanId(3), SpanId(2), attributes:
            [("openinference.span.kind", "TOOL"), ("tool.name", "web_search")]);
        var chain = Span("RunnableSequence", TraceId(1), SpanId(4), SpanId(1), attributes: [("openinference.span.kind", "CHAIN")]);

        var batch = Map([agent, llm, tool, chain]);

        var invocation = Assert.Single(batch.Invocations);
        Assert.Equal("researcher", invocation.AgentName);
        Assert.Equal("s-9", invocation.ConversationId);
        var call = Assert.Single(batch.ProviderCalls);
        Assert.Equal("anthropic", call.Provider);
        Assert.Equal("claude-sonnet-4", call.ResponseModel);
        Assert.Equal(new TokenCounts(200, 50, 100, 20, 10), call.Tokens);
        Assert.Equal("researcher", call.AgentName);
        Assert.Equal("web_search", Assert.Single(batch.ToolCalls).ToolName);
    }

    [Fact]
    public void Tenant_ComesFromTheSpan_ElseItsInvocation_ElseTheResource_ElseDefault()
    {
        var agent = Span("invoke_agent a", TraceId(1), SpanId(1), attributes: [(PerfOtelAttributes.Tenant, "from-invocation")]);
        var inherits = Span("chat m", TraceId(1), SpanId(2), SpanId(1));
        var overrides = Span("chat m", TraceId(1), SpanId(3), SpanId(1), attributes: [(PerfOtelAttributes.Tenant, "from-span")]);
        var outside = Span("chat m", TraceId(2), SpanId(4));

        var withResource = Map([agent, inherits, overrides, outside], (PerfOtelAttributes.Tenant, "from-resource"));
        Assert.Equal("from-invocation", withResource.ProviderCalls.Single(c => c.SpanId == Hex(SpanId(2))).Tenant);
        Assert.Equal("from-span", withResource.ProviderCalls.Single(c => c.SpanId == Hex(SpanId(3))).Tenant);
        Assert.Equal("from-resource", withResource.ProviderCalls.Single(c => c.SpanId == Hex(SpanId(4))).Tenant);

        var withoutResource = Map([outside]);
        Assert.Equal(SpanMapper.DefaultTenant, Assert.Single(withoutResource.ProviderCalls).Tenant);
    }

    [Theory]
    [InlineData("success", Status.Types.StatusCode.Error, "success")]
    [InlineData("partial", Status.Types.StatusCode.Unset, "partial")]
    [InlineData("failure", Status.Types.StatusCode.Ok, "failure")]
    [InlineData(null, Status.Types.StatusCode.Error, "failure")]
    [InlineData(null, Status.Types.StatusCode.Unset, "success")]
    [InlineData(null, Status.Types.StatusCode.Ok, "success")]
    [InlineData("great", Status.Types.StatusCode.Error, "failure")]
    public void Outcome_ComesFromPerfOtelOutcome_ElseTheSpanStatus(string? declared, Status.Types.StatusCode status, string expected)
    {
        var span = Span("invoke_agent a", TraceId(1), SpanId(1), attributes: declared is null ? [] : [(PerfOtelAttributes.Outcome, declared)]);
        span.Status = new Status { Code = status };

        Assert.Equal(expected, Assert.Single(Map([span]).Invocations).Outcome);
    }

    [Fact]
    public void ErrorType_ComesFromErrorType_ElseTheExceptionEvent_ElseOther()
    {
        var declared = Span("execute_tool a", TraceId(1), SpanId(1), attributes: [(GenAiAttributes.ErrorType, "timeout")]);
        var fromException = Span("execute_tool b", TraceId(1), SpanId(2));
        fromException.Status = new Status { Code = Status.Types.StatusCode.Error };
        fromException.Events.Add(new ProtoSpan.Types.Event { Name = "exception", Attributes = { Attr("exception.type", "System.IO.IOException") } });
        var bare = Span("execute_tool c", TraceId(1), SpanId(3));
        bare.Status = new Status { Code = Status.Types.StatusCode.Error };
        var fine = Span("execute_tool d", TraceId(1), SpanId(4));

        var tools = Map([declared, fromException, bare, fine]).ToolCalls.ToDictionary(t => t.ToolName, t => t.ErrorType);

        Assert.Equal("timeout", tools["a"]);
        Assert.Equal("System.IO.IOException", tools["b"]);
        Assert.Equal("_OTHER", tools["c"]);
        Assert.Null(tools["d"]);
    }

    [Fact]
    public void Cost_FromTheSpanWins_ElsePriced_ElseUnpricedTokensAndNoCost()
    {
        var declared = Span("chat gpt-4o", TraceId(1), SpanId(1), attributes:
            [(GenAiAttributes.RequestModel, "gpt-4o"), (GenAiAttributes.UsageInputTokens, 1000L), (PerfOtelAttributes.CostUsd, 0.5)]);
        var priced = Span("chat gpt-4o", TraceId(1), SpanId(2), attributes:
            [(GenAiAttributes.RequestModel, "gpt-4o"), (GenAiAttributes.UsageInputTokens, 1000L), (GenAiAttributes.UsageOutputTokens, 100L)]);
        var unpriced = Span("chat my-finetune", TraceId(1), SpanId(3), attributes:
            [(GenAiAttributes.RequestModel, "my-finetune"), (GenAiAttributes.UsageInputTokens, 70L), (GenAiAttributes.UsageOutputTokens, 30L)]);
        var noModel = Span("chat", TraceId(1), SpanId(4), attributes: [(GenAiAttributes.UsageInputTokens, 5L)]);

        var calls = Map([declared, priced, unpriced, noModel]).ProviderCalls.ToDictionary(c => c.SpanId);

        Assert.Equal(0.5, calls[Hex(SpanId(1))].CostUsd);
        Assert.Equal(0, calls[Hex(SpanId(1))].UnpricedTokens);
        Assert.Equal((1000 * 2.5 + 100 * 10.0) / 1e6, calls[Hex(SpanId(2))].CostUsd!.Value, 12);
        Assert.Null(calls[Hex(SpanId(3))].CostUsd);
        Assert.Equal(100, calls[Hex(SpanId(3))].UnpricedTokens);
        Assert.Null(calls[Hex(SpanId(4))].CostUsd);
        Assert.Equal(5, calls[Hex(SpanId(4))].UnpricedTokens);
    }

    [Fact]
    public void ChildCalls_ResolveTheNearestInvocation_ThroughIntermediateSpans_AndNestedAgents()
    {
        var outer = Span("invoke_agent orchestrator", TraceId(1), SpanId(1));
        var step = Span("plan step", TraceId(1), SpanId(2), SpanId(1));
        var chatInStep = Span("chat gpt-4o", TraceId(1), SpanId(3), SpanId(2));
        var inner = Span("invoke_agent coder", TraceId(1), SpanId(4), SpanId(2));
        var toolInInner = Span("execute_tool run_tests", TraceId(1), SpanId(5), SpanId(4));
        var sameSpanIdOtherTrace = Span("chat gpt-4o", TraceId(2), SpanId(6), SpanId(1));

        var batch = Map([toolInInner, chatInStep, inner, step, outer, sameSpanIdOtherTrace]);

        var chat = batch.ProviderCalls.Single(c => c.SpanId == Hex(SpanId(3)));
        Assert.Equal(Hex(SpanId(1)), chat.InvocationSpanId);
        Assert.Equal("orchestrator", chat.AgentName);
        var tool = Assert.Single(batch.ToolCalls);
        Assert.Equal(Hex(SpanId(4)), tool.InvocationSpanId);
        Assert.Equal("coder", tool.AgentName);
        Assert.Equal(Hex(SpanId(2)), batch.Invocations.Single(i => i.AgentName == "coder").ParentSpanId);
        var unrelated = batch.ProviderCalls.Single(c => c.SpanId == Hex(SpanId(6)));
        Assert.Null(unrelated.InvocationSpanId);
        Assert.Null(unrelated.AgentName);
    }

    [Fact]
    public void ParentCycles_EndTheWalk()
    {
        var a = Span("step a", TraceId(1), SpanId(1), SpanId(2));
        var b = Span("step b", TraceId(1), SpanId(2), SpanId(1));
        var chat = Span("chat m", TraceId(1), SpanId(3), SpanId(1));

        var call = Assert.Single(Map([a, b, chat]).ProviderCalls);

        Assert.Null(call.InvocationSpanId);
    }

    [Fact]
    public void EvaluationEvents_BecomeEvaluations_KeyedByTheirPositionOnTheSpan()
    {
        var agent = Span("invoke_agent judge-me", TraceId(1), SpanId(1), attributes: [(PerfOtelAttributes.Tenant, "acme")]);
        agent.Events.Add(new ProtoSpan.Types.Event { Name = "gen_ai.content.prompt", TimeUnixNano = BaseTimeNanos });
        agent.Events.Add(new ProtoSpan.Types.Event
        {
            Name = GenAiEvents.EvaluationResult,
            TimeUnixNano = BaseTimeNanos + 5,
            Attributes = { Attr(GenAiAttributes.EvaluationName, "accuracy"), Attr(GenAiAttributes.EvaluationScoreValue, 1L) },
        });
        var chat = Span("chat m", TraceId(1), SpanId(2), SpanId(1));
        chat.Events.Add(new ProtoSpan.Types.Event
        {
            Name = GenAiEvents.EvaluationResult,
            Attributes = { Attr(GenAiAttributes.EvaluationName, "tone"), Attr(GenAiAttributes.EvaluationScoreLabel, "polite") },
        });

        var evaluations = Map([agent, chat]).Evaluations.ToDictionary(e => e.Name);

        Assert.Equal(1, evaluations["accuracy"].Sequence);
        Assert.Equal(1.0, evaluations["accuracy"].Score);
        Assert.Equal("judge-me", evaluations["accuracy"].AgentName);
        Assert.Equal("acme", evaluations["accuracy"].Tenant);
        Assert.Equal(0, evaluations["tone"].Sequence);
        Assert.Equal("polite", evaluations["tone"].Label);
        Assert.Null(evaluations["tone"].Score);
        Assert.Equal(Hex(SpanId(2)), evaluations["tone"].SpanId);
        Assert.Equal("judge-me", evaluations["tone"].AgentName);
        Assert.Equal(OtlpIdsTime(chat.EndTimeUnixNano), evaluations["tone"].Time);
    }

    [Fact]
    public void NonGenAiSpans_AreAcceptedAndIgnored_OutOfRangeValuesDropped()
    {
        var http = Span("GET /orders", TraceId(1), SpanId(1), attributes: [("http.request.method", "GET")]);
        var agent = Span("invoke_agent a", TraceId(1), SpanId(2), attributes:
            [(PerfOtelAttributes.Confidence, 1.7), (PerfOtelAttributes.CostUsd, -1.0), (GenAiAttributes.UsageInputTokens, -5L)]);

        var result = BothDecoders.Map(Mapper, Traces([http, agent]));

        Assert.Equal(2, result.Received);
        Assert.Equal(0, result.Rejected);
        var invocation = Assert.Single(result.Batch.Invocations);
        Assert.Null(invocation.Confidence);
        Assert.Null(invocation.CostUsd);
        Assert.Equal(0, invocation.Tokens.Input);
        Assert.Equal(1, result.Batch.Count);
    }

    private static DateTimeOffset OtlpIdsTime(ulong nanos) => DateTimeOffset.UnixEpoch.AddTicks((long)(nanos / 100));

    [Fact]
    public void AttributeAllowlist_KeepsOnlyTheChosenAttributes_AsJson()
    {
        var mapper = new SpanMapper(new TablePricing(), new PrivacyPolicy(new PrivacyOptions { AttributeAllowlist = { "app.*", "user.tier" } }, []));
        var agent = Span("invoke_agent a", TraceId(1), SpanId(1), attributes:
        [
            ("app.region", "eu-west-1"), ("app.shard", 3L), ("user.tier", "gold"), ("user.email", "someone@example.com"),
            (GenAiAttributes.InputMessages, "[{\"role\":\"user\",\"content\":\"secret\"}]"),
        ]);
        agent.Attributes.Add(new OpenTelemetry.Proto.Common.V1.KeyValue
        {
            Key = "app.tags",
            Value = new() { ArrayValue = new() { Values = { new OpenTelemetry.Proto.Common.V1.AnyValue { StringValue = "a" }, new OpenTelemetry.Proto.Common.V1.AnyValue { BoolValue = true } } } },
        });

        var kept = Assert.Single(BothDecoders.Map(mapper, Traces([agent])).Batch.Invocations).AttributesJson;

        Assert.Equal("""{"app.region":"eu-west-1","app.shard":3,"user.tier":"gold","app.tags":["a",true]}""", kept);
        Assert.Null(Assert.Single(Map([agent]).Invocations).AttributesJson);
    }
}
