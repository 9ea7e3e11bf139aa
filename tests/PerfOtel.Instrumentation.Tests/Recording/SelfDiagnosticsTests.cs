using System.Diagnostics.Tracing;
using System.Reflection;
using PerfOtel.Instrumentation.Implementation;

namespace PerfOtel.Instrumentation.Tests.Recording;

// In the instruments' collection: other tests there write events too, and one running alongside would interleave.
[Collection(GlobalInstrumentsCollection.Name)]
public class SelfDiagnosticsTests
{
    [Fact]
    public void Event_ids_are_sequential_and_each_method_writes_its_own_id_with_its_arguments()
    {
        var methods = typeof(InstrumentationEventSource)
            .GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly)
            .Select(m => (Method: m, Event: m.GetCustomAttribute<EventAttribute>()))
            .Where(m => m.Event is not null)
            .OrderBy(m => m.Event!.EventId)
            .ToList();
        Assert.Equal(Enumerable.Range(1, methods.Count), methods.Select(m => m.Event!.EventId));

        using var listener = new CapturingListener();
        foreach (var (method, attribute) in methods)
        {
            var arguments = method.GetParameters().Select(p => p.ParameterType == typeof(string) ? (object)p.Name! : Convert.ChangeType(7, p.ParameterType, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            method.Invoke(InstrumentationEventSource.Log, arguments);
            var written = listener.Last ?? throw new Xunit.Sdk.XunitException($"{method.Name} wrote nothing");
            Assert.Equal(attribute!.EventId, written.EventId);
            Assert.Equal(method.Name, written.EventName);
            Assert.Equal(arguments, written.Payload);
            Assert.Equal(attribute.Level, written.Level);
        }
    }

    private sealed class CapturingListener : EventListener
    {
        public EventWrittenEventArgs? Last { get; private set; }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "PerfOtel-Instrumentation")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventSource.Name == "PerfOtel-Instrumentation" && eventData.EventId > 0)
            {
                Last = eventData;
            }
        }
    }
}
