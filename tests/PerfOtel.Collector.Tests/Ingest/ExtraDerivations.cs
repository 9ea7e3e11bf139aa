using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Hosting;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>Appends test derivations (recorders, a throwing one) after the composition root's, in the one seam.</summary>
internal static class ExtraDerivations
{
    public static IServiceCollection AddExtraDerivations(this IServiceCollection services, params IDerivation[] extra)
    {
        services.RemoveAll<DerivationPipeline>();
        services.AddSingleton(sp => new DerivationPipeline([.. DerivedComposition.InOrder(sp), .. extra],
            sp.GetRequiredService<ILogger<DerivationPipeline>>()));
        return services;
    }
}
