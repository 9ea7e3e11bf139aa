using PerfOtel.Instrumentation.Experiments;

namespace AgentFleet.Fleet;

/// <summary>
/// An experiment the fleet runs on one agent: <see cref="Assignment"/> puts each task in a variant (sticky, by task id);
/// the variant <see cref="TreatmentVariant"/> calls <see cref="TreatmentRoute"/> instead of the agent's primary model, with
/// its latency scaled by <see cref="TreatmentLatencyFactor"/>. The collector's definition of the same experiment is in
/// scripts/run-stack.sh (the same name, variants and weights), so that the verdict and the SRM check have something to
/// compare against.
/// </summary>
public sealed record FleetExperiment(ExperimentAssignment Assignment, string TreatmentVariant, ModelRoute TreatmentRoute, double TreatmentLatencyFactor)
{
    public string Name => Assignment.Name;
}
