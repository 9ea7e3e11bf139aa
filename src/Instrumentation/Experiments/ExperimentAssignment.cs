using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace PerfOtel.Instrumentation.Experiments;

/// <summary>One variant of an experiment and its intended share of the traffic (a relative weight).</summary>
/// <param name="Name"><c>perfotel.variant</c>.</param>
/// <param name="Weight">Relative weight, finite and not negative; the shares are the weights over their sum.</param>
public readonly record struct ExperimentVariant(string Name, double Weight);

/// <summary>
/// Deterministic, sticky, weighted assignment of units (a user, a conversation, a task) to the variants of an
/// experiment, the same in every process and every language:
/// <list type="number">
/// <item><c>h</c> = SHA-256 of the UTF-8 bytes of the experiment name, one zero byte, and the UTF-8 bytes of the unit id;</item>
/// <item><c>x</c> = the first 8 bytes of <c>h</c> as a big-endian unsigned 64-bit integer, shifted right by 11 bits;</item>
/// <item><c>u</c> = <c>x</c> / 2^53, a number in [0, 1) (exact in IEEE-754 doubles);</item>
/// <item>the variant is the first, in the order given, whose cumulative share <c>(w_1 + ... + w_i) / W</c> (double
/// arithmetic, summed in order) is greater than <c>u</c>.</item>
/// </list>
/// The same unit always gets the same variant; hashing the experiment name in keeps one experiment's split independent
/// of another's. Changing the weights moves only the units whose <c>u</c> falls between the old and new boundaries.
/// Assigning allocates nothing. Test vectors for other implementations are in the instrumentation's README.
/// </summary>
public sealed class ExperimentAssignment
{
    private const int StackBytes = 512;
    private readonly byte[] _prefix;
    private readonly double[] _boundaries;

    /// <param name="experiment"><c>perfotel.experiment</c>: the experiment's name.</param>
    /// <param name="variants">At least one variant; names distinct and non-empty; weights finite, not negative, not all zero.</param>
    public ExperimentAssignment(string experiment, params ExperimentVariant[] variants)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(experiment);
        ArgumentNullException.ThrowIfNull(variants);
        if (variants.Length == 0)
        {
            throw new ArgumentException("An experiment needs at least one variant.", nameof(variants));
        }

        var total = 0.0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variant in variants)
        {
            if (string.IsNullOrWhiteSpace(variant.Name))
            {
                throw new ArgumentException("Variant names must not be empty.", nameof(variants));
            }
            if (!names.Add(variant.Name))
            {
                throw new ArgumentException($"Variant '{variant.Name}' is given twice.", nameof(variants));
            }
            if (!double.IsFinite(variant.Weight) || variant.Weight < 0)
            {
                throw new ArgumentException($"Variant '{variant.Name}' has weight {variant.Weight}; weights must be finite and not negative.", nameof(variants));
            }
            total += variant.Weight;
        }
        if (!(total > 0) || !double.IsFinite(total))
        {
            throw new ArgumentException("The variants' weights must add up to a positive finite number.", nameof(variants));
        }

        Name = experiment;
        Variants = [.. variants];
        _boundaries = new double[variants.Length];
        var cumulative = 0.0;
        for (var i = 0; i < variants.Length; i++)
        {
            cumulative += variants[i].Weight;
            _boundaries[i] = cumulative / total;
        }
        _prefix = [.. Encoding.UTF8.GetBytes(experiment), 0];
    }

    /// <summary>The experiment's name (<c>perfotel.experiment</c>).</summary>
    public string Name { get; }

    /// <summary>The variants in the order that defines the assignment.</summary>
    public IReadOnlyList<ExperimentVariant> Variants { get; }

    /// <summary>The variant of <paramref name="unitId"/>: always the same for the same experiment, variants and unit.</summary>
    public string Assign(ReadOnlySpan<char> unitId)
    {
        var u = UnitPoint(unitId);
        for (var i = 0; i < _boundaries.Length; i++)
        {
            if (u < _boundaries[i])
            {
                return Variants[i].Name;
            }
        }
        // Only reachable when trailing variants have weight 0 and rounding left the last boundary just below 1.
        for (var i = _boundaries.Length - 1; i >= 0; i--)
        {
            if (Variants[i].Weight > 0)
            {
                return Variants[i].Name;
            }
        }
        return Variants[^1].Name;
    }

    /// <summary>
    /// The invocation details tagged with this experiment and the variant of <paramref name="unitId"/>, e.g.
    /// <c>AgentTelemetry.StartInvocation("planner", experiment.Tag(new() { Tenant = "acme" }, userId))</c>.
    /// </summary>
    public AgentInvocationDetails Tag(in AgentInvocationDetails details, ReadOnlySpan<char> unitId) =>
        details with { Experiment = Name, Variant = Assign(unitId) };

    /// <summary>The unit's point <c>u</c> in [0, 1) (step 3 of the algorithm).</summary>
    public double UnitPoint(ReadOnlySpan<char> unitId)
    {
        var length = _prefix.Length + Encoding.UTF8.GetMaxByteCount(unitId.Length);
        byte[]? rented = null;
        var buffer = length <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            _prefix.CopyTo(buffer);
            var written = _prefix.Length + Encoding.UTF8.GetBytes(unitId, buffer[_prefix.Length..]);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..written], hash);
            var x = BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11;
            return x / 9007199254740992.0; // 2^53
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
