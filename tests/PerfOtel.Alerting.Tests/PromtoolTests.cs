using PerfOtel.Alerting.Tests.Assets;
using PerfOtel.Alerting.Tests.Tools;

namespace PerfOtel.Alerting.Tests;

/// <summary>The rule files and their unit tests, run through the real promtool.</summary>
public class PromtoolTests
{
    [Fact]
    public void CheckRules_EveryRuleFileIsValidAndLintClean()
    {
        var files = AlertingAssets.RuleFiles();
        var result = PrometheusTool.Promtool(["check", "rules", "--lint=all", "--lint-fatal", .. files]);

        Assert.True(result.ExitCode == 0, "promtool check rules failed:\n" + result.Output);
        foreach (var file in files)
        {
            Assert.Contains("Checking " + file, result.Output, StringComparison.Ordinal);
        }
        Assert.Equal(files.Count, CountOccurrences(result.Output, "SUCCESS"));
    }

    [Fact]
    public void TestRules_EveryUnitTestPasses()
    {
        var files = AlertingAssets.RuleTestFiles();
        var result = PrometheusTool.Promtool(["test", "rules", .. files]);

        Assert.True(result.ExitCode == 0, "promtool test rules failed:\n" + result.Output);
        Assert.Equal(files.Count, CountOccurrences(result.Output, "SUCCESS"));
    }

    [Fact]
    public void TestRules_FailsWhenAnExpectedAnnotationIsWrong()
    {
        // Guards the guard: the same test file with one expected value changed must fail, so a passing run means the
        // rules really produce the expected labels and annotations.
        var original = Path.Combine(AlertingAssets.RuleTestsDirectory, "agents.test.yaml");
        var text = File.ReadAllText(original);
        const string Expected = "succeeded in 70% of its invocations";
        Assert.Contains(Expected, text, StringComparison.Ordinal);
        var broken = text
            .Replace(Expected, "succeeded in 71% of its invocations", StringComparison.Ordinal)
            .Replace("- ../", "- " + AlertingAssets.RulesDirectory + "/", StringComparison.Ordinal);
        var copy = Path.Combine(Path.GetTempPath(), $"perfotel-broken-{Guid.NewGuid():N}.test.yaml");
        File.WriteAllText(copy, broken);
        try
        {
            var result = PrometheusTool.Promtool("test", "rules", copy);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("PerfOtelAgentSuccessRateLow", result.Output, StringComparison.Ordinal);
            Assert.Contains("succeeded in 70% of its invocations", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
