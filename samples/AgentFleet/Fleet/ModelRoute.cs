namespace AgentFleet.Fleet;

/// <summary>A model an agent calls: provider, requested model, and the dated snapshot the provider answers with.</summary>
public sealed record ModelRoute(string Provider, string Model, string ResponseModel)
{
    /// <summary>How the route is named in <c>perfotel.fallback.from</c>.</summary>
    public string Label => $"{Provider}/{Model}";
}
