namespace PerfOtel.Collector.Derived.Cardinality;

/// <summary>A kind of value that becomes a key of in-memory state and a metric label, limited per tenant.</summary>
public enum CardinalityDimension
{
    /// <summary>The tenant itself (<c>perfotel.tenant</c>); limited collector-wide, not per tenant.</summary>
    Tenant,

    /// <summary>Agent names (<c>gen_ai.agent.name</c>).</summary>
    Agent,

    /// <summary>(provider, model) pairs of provider calls.</summary>
    Model,

    /// <summary>Evaluation names (<c>gen_ai.evaluation.name</c>).</summary>
    Evaluation,

    /// <summary>(experiment, variant) pairs (<c>perfotel.experiment</c>, <c>perfotel.variant</c>).</summary>
    ExperimentVariant,
}

/// <summary>Label values of <see cref="CardinalityDimension"/> on the collector's self-metrics.</summary>
public static class CardinalityDimensions
{
    /// <summary>Every dimension, in declaration order.</summary>
    public static IReadOnlyList<CardinalityDimension> All { get; } = Enum.GetValues<CardinalityDimension>();

    /// <summary>The <c>dimension</c> label value of a dimension.</summary>
    public static string LabelOf(CardinalityDimension dimension) => dimension switch
    {
        CardinalityDimension.Tenant => "tenant",
        CardinalityDimension.Agent => "agent",
        CardinalityDimension.Model => "model",
        CardinalityDimension.Evaluation => "evaluation",
        CardinalityDimension.ExperimentVariant => "experiment_variant",
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };
}
