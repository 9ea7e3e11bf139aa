using System.Diagnostics;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Implementation;

namespace PerfOtel.Instrumentation;

/// <summary>
/// One execution of a tool by an agent: the span <c>execute_tool {tool}</c> and, when disposed,
/// <c>gen_ai.execute_tool.duration</c>. Start it with <see cref="AgentInvocation.StartToolExecution"/>.
/// </summary>
public sealed class ToolExecution : IDisposable
{
    private readonly AgentInvocation? invocation;
    private readonly string toolName;
    private readonly long startTimestamp;
    private string? errorType;
    private int ended;

    private ToolExecution()
    {
        toolName = InputGuard.UnknownName;
        ended = 1;
    }

    internal ToolExecution(AgentInvocation? invocation, string toolName, string? toolCallId, string? toolType)
    {
        this.invocation = invocation;
        this.toolName = InputGuard.Name(toolName, GenAiAttributes.ToolName);
        var source = AgentInstruments.ActivitySource;
        if (source.HasListeners())
        {
            var parent = invocation?.Activity?.Context ?? default;
            Activity = source.StartActivity(
                ActivityKind.Internal,
                parent,
                tags: [new(GenAiAttributes.OperationName, GenAiOperations.ExecuteTool), new(GenAiAttributes.ToolName, this.toolName)],
                name: GenAiOperations.ExecuteTool + " " + this.toolName);
            if (Activity is { IsAllDataRequested: true } activity)
            {
                AgentInvocation.SetIfPresent(activity, GenAiAttributes.ToolCallId, toolCallId);
                AgentInvocation.SetIfPresent(activity, GenAiAttributes.ToolType, toolType);
                if (invocation is not null)
                {
                    activity.SetTag(GenAiAttributes.AgentName, invocation.AgentName);
                }
            }
        }
        startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>The span, or null when no one samples it.</summary>
    public Activity? Activity { get; }

    internal static ToolExecution Disabled { get; } = new();

    /// <summary>Marks the execution as failed with <c>error.type</c> (default <c>_OTHER</c>).</summary>
    public ToolExecution Fail(string? errorType = null)
    {
        Volatile.Write(ref this.errorType, InputGuard.OptionalName(errorType) ?? AgentInvocation.OtherErrorType);
        return this;
    }

    /// <summary>Marks the execution as failed by <paramref name="exception"/>.</summary>
    public ToolExecution Fail(Exception exception) => Fail(exception?.GetType().FullName);

    /// <summary>Ends the execution and records its duration.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref ended, 1) != 0)
        {
            return;
        }
        try
        {
            var duration = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            var error = Volatile.Read(ref errorType);
            if (AgentInstruments.ExecuteToolDuration.Enabled)
            {
                var tags = new TagList
                {
                    { GenAiAttributes.OperationName, GenAiOperations.ExecuteTool },
                    { GenAiAttributes.ToolName, toolName },
                    { PerfOtelAttributes.Tenant, invocation?.Tenant ?? InstrumentationSettings.Current.DefaultTenant },
                };
                if (invocation is not null)
                {
                    tags.Add(GenAiAttributes.AgentName, invocation.AgentName);
                }
                if (error is not null)
                {
                    tags.Add(GenAiAttributes.ErrorType, error);
                }
                using (Implementation.MeasuredSpan.Enter(Activity))
                {
                    AgentInstruments.ExecuteToolDuration.Record(duration, tags);
                }
            }
            if (Activity is { } activity)
            {
                if (error is not null)
                {
                    if (activity.IsAllDataRequested)
                    {
                        activity.SetTag(GenAiAttributes.ErrorType, error);
                    }
                    activity.SetStatus(ActivityStatusCode.Error, error);
                }
                activity.Stop();
            }
        }
        catch (Exception e)
        {
            InstrumentationEventSource.Log.RecordingFailed(GenAiOperations.ExecuteTool, e);
        }
    }
}
