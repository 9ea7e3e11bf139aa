using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>What a span is to PerfOtel, and the GenAI operation it performs.</summary>
internal enum SpanRoleKind
{
    Other,
    Invocation,
    Inference,
    Tool,
}

internal readonly record struct SpanRole(SpanRoleKind Kind, string? Operation)
{
    public static readonly SpanRole Other = new(SpanRoleKind.Other, null);

    /// <summary>
    /// Classifies by <c>gen_ai.operation.name</c>; without it by the span name's first word (the conventions name spans
    /// <c>{operation} {target}</c>); then by the span-kind attributes of OpenLLMetry and OpenInference.
    /// </summary>
    public static SpanRole Classify(SpanInput span, AttributeBag attributes)
    {
        if (attributes.String(GenAiAttributes.OperationName) is { } operation)
        {
            return FromOperation(operation);
        }

        // The name is decoded only for spans that do not say their operation.
        return ClassifyUnnamed(span.Name, attributes);
    }

    /// <summary>Without <c>gen_ai.operation.name</c>: the span name's first word, then the other conventions' kinds.</summary>
    private static SpanRole ClassifyUnnamed(string spanName, AttributeBag attributes)
    {
        var firstWord = spanName.AsSpan();
        var space = firstWord.IndexOf(' ');
        if (space >= 0)
        {
            firstWord = firstWord[..space];
        }

        var byName = FromOperation(firstWord.ToString());
        if (byName.Kind != SpanRoleKind.Other)
        {
            return byName;
        }

        switch (attributes.String(OpenLlmetryAttributes.RequestType))
        {
            case "chat": return new(SpanRoleKind.Inference, GenAiOperations.Chat);
            case "completion": return new(SpanRoleKind.Inference, GenAiOperations.TextCompletion);
            case "embedding": return new(SpanRoleKind.Inference, GenAiOperations.Embeddings);
        }

        switch (attributes.String(OpenLlmetryAttributes.SpanKind))
        {
            case "agent": return new(SpanRoleKind.Invocation, GenAiOperations.InvokeAgent);
            case "tool": return new(SpanRoleKind.Tool, GenAiOperations.ExecuteTool);
        }

        return attributes.String(OpenInferenceAttributes.SpanKind) switch
        {
            "LLM" => new(SpanRoleKind.Inference, GenAiOperations.Chat),
            "EMBEDDING" => new(SpanRoleKind.Inference, GenAiOperations.Embeddings),
            "TOOL" => new(SpanRoleKind.Tool, GenAiOperations.ExecuteTool),
            "AGENT" => new(SpanRoleKind.Invocation, GenAiOperations.InvokeAgent),
            _ => Other,
        };
    }

    private static SpanRole FromOperation(string operation) => operation switch
    {
        LegacyGenAiOperations.ChatCompletions => new(SpanRoleKind.Inference, GenAiOperations.Chat),
        LegacyGenAiOperations.TextCompletions => new(SpanRoleKind.Inference, GenAiOperations.TextCompletion),
        GenAiOperations.InvokeAgent => new(SpanRoleKind.Invocation, operation),
        GenAiOperations.ExecuteTool => new(SpanRoleKind.Tool, operation),
        _ when GenAiOperations.IsInference(operation) => new(SpanRoleKind.Inference, operation),
        _ => Other,
    };
}
