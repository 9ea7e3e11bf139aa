namespace PerfOtel.Instrumentation.Tests;

public class ProjectSmokeTests
{
    [Fact]
    public void AssemblyLoads() => Assert.NotNull(typeof(ProjectSmokeTests).Assembly);
}
