using YamlDotNet.RepresentationModel;

namespace PerfOtel.Alerting.Tests.Assets;

/// <summary>One <c>alert_rule_test</c> check of a promtool test file: an alert name, a time, the alerts expected then.</summary>
internal sealed record AlertCheck(string File, string TestName, string AlertName, TimeSpan EvalTime, IReadOnlyList<ExpectedAlert> Expected);

internal sealed record ExpectedAlert(IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations);

/// <summary>The alert checks of every promtool test file under alerting/prometheus-rules/tests.</summary>
internal static class PromtoolTestFiles
{
    public static IReadOnlyList<AlertCheck> AlertChecks() =>
        AlertingAssets.RuleTestFiles().SelectMany(file =>
        {
            var root = YamlFile.Load(file);
            return YamlFile.Sequence(root, "tests").OfType<YamlMappingNode>().SelectMany(test =>
                YamlFile.Sequence(test, "alert_rule_test").OfType<YamlMappingNode>().Select(check => new AlertCheck(
                    Path.GetFileName(file),
                    YamlFile.Scalar(test, "name") ?? "(unnamed)",
                    YamlFile.Scalar(check, "alertname") ?? "",
                    PromDuration.Parse(YamlFile.Scalar(check, "eval_time") ?? "0s"),
                    YamlFile.Sequence(check, "exp_alerts").OfType<YamlMappingNode>()
                        .Select(a => new ExpectedAlert(YamlFile.StringMap(a, "exp_labels"), YamlFile.StringMap(a, "exp_annotations")))
                        .ToList())));
        }).ToList();
}

/// <summary>Prometheus durations as rule and test files write them: <c>90s</c>, <c>15m</c>, <c>1h10m</c>, <c>3d</c>.</summary>
internal static class PromDuration
{
    public static TimeSpan Parse(string text)
    {
        var total = TimeSpan.Zero;
        var number = 0L;
        var sawDigit = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiDigit(c))
            {
                number = number * 10 + (c - '0');
                sawDigit = true;
                continue;
            }
            if (!sawDigit)
            {
                throw new FormatException($"not a Prometheus duration: '{text}'");
            }
            var isMillis = c == 'm' && i + 1 < text.Length && text[i + 1] == 's';
            total += c switch
            {
                _ when isMillis => TimeSpan.FromMilliseconds(number),
                's' => TimeSpan.FromSeconds(number),
                'm' => TimeSpan.FromMinutes(number),
                'h' => TimeSpan.FromHours(number),
                'd' => TimeSpan.FromDays(number),
                'w' => TimeSpan.FromDays(7 * number),
                'y' => TimeSpan.FromDays(365 * number),
                _ => throw new FormatException($"not a Prometheus duration: '{text}'"),
            };
            if (isMillis)
            {
                i++;
            }
            number = 0;
            sawDigit = false;
        }
        if (sawDigit)
        {
            throw new FormatException($"Prometheus duration without a unit: '{text}'");
        }
        return total;
    }
}
