namespace PerfOtel.Testing;

/// <summary>Locates the repository (the folder holding PerfOtel.sln) and build outputs from a test's folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Build configuration the tests were built with (Debug or Release), read from the output path.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PerfOtel.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("PerfOtel.sln not found above " + AppContext.BaseDirectory);
    }
}
