using System.Text.Json;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Models;

/// <summary>
/// Issue 17 item 6: a defined experiment that compares two models of one agent on one task type decides the
/// cheaper-model advice for that pair instead of the observational like-for-like comparison (the rule in
/// docs/collector/cost-and-budgets.md, "Advice from an experiment"). The data is built so that the two disagree, both
/// ways, and the comparison's own answer is shown by the same recommender without the experiments.
/// </summary>
public class ExperimentAdviceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 16, 12, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string?> Definition(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Experiments:Definitions:default:model-swap:Variants:control"] = "1",
            ["Experiments:Definitions:default:model-swap:Variants:cheaper"] = "1",
            ["Experiments:Definitions:default:model-swap:Control"] = "control",
        };
        foreach (var (key, value) in more)
        {
            settings["Experiments:Definitions:default:model-swap:" + key] = value;
        }
        return settings;
    }

    /// <summary>
    /// Commits one invocation of planner on itinerary served by one call of <paramref name="model"/>; in the experiment's
    /// <paramref name="variant"/> when given. The call is committed after its invocation when <paramref name="callLater"/>.
    /// </summary>
    private static void Serve(CostHarness harness, string model, double costUsd, bool success, string? variant = null,
        double durationSeconds = 2.0, bool callLater = false)
    {
        var start = Now.AddMinutes(-10);
        var invocation = CostRecords.Invocation(start, success ? Outcomes.Success : Outcomes.Failure, experiment: variant is null ? null : "model-swap",
            variant: variant, durationSeconds: durationSeconds) with { TaskType = "itinerary" };
        var call = CostRecords.Call(start.AddMilliseconds(10), costUsd, model, invocationSpanId: invocation.SpanId);
        if (callLater)
        {
            harness.Commit(invocation);
            harness.Commit(call);
        }
        else
        {
            harness.Commit(call, invocation);
        }
    }

    [Fact]
    public async Task AGuardrailViolatedExperimentWithholdsTheCheaperModelTheComparisonWouldAdvise()
    {
        await using var harness = new CostHarness(Now, Definition(("Guardrails:latency", "0.1")));
        await harness.StartAsync();
        // The worked guardrail example of docs/collector/experiments.md: control latencies alternate 1 s and 3 s, cheaper
        // 2 s and 4 s, 200 each, every one successful: lift +50 % with lower bound +38 % > 10 %: guardrail_violated.
        // The comparison sees only success and cost: 200/200 at 0.10 USD against 200/200 at 0.02 USD, 80 % cheaper.
        for (var i = 0; i < 200; i++)
        {
            Serve(harness, "gpt-4o", 0.10, success: true, "control", i % 2 == 0 ? 1 : 3);
            // Half of the cheaper variant's calls are committed after their invocation: they count the same.
            Serve(harness, "gpt-4o-mini", 0.02, success: true, "cheaper", i % 2 == 0 ? 2 : 4, callLater: i % 2 == 0);
        }

        var observational = new ModelRecommendations(harness.Models).GetRecommendations("default");
        var comparisonWouldAdvise = Assert.Single(observational);
        Assert.Equal(("gpt-4o", "gpt-4o-mini", ModelRecommendation.FromComparison), (comparisonWouldAdvise.CurrentModel,
            comparisonWouldAdvise.RecommendedModel, comparisonWouldAdvise.Source));

        var recommender = harness.Get<IModelRecommendations>();
        Assert.Empty(recommender.GetRecommendations("default"));
        var decision = Assert.Single(recommender.GetExperimentAdvice("default"));
        Assert.Equal(("planner", "itinerary", "model-swap", "guardrail_violated", false),
            (decision.Agent, decision.TaskType, decision.Experiment, decision.Verdict, decision.Advised));
        Assert.Equal(("openai", "gpt-4o", "control", "openai", "gpt-4o-mini", "cheaper"), (decision.CurrentProvider, decision.CurrentModel,
            decision.CurrentVariant, decision.CandidateProvider, decision.CandidateModel, decision.CandidateVariant));
        // The experiment's own cost per invocation, every call counted (including the ones committed later).
        Assert.Equal(0.10, decision.CurrentCostPerInvocationUsd, 12);
        Assert.Equal(0.02, decision.CandidateCostPerInvocationUsd, 12);
        Assert.Equal((200, 200), (decision.CurrentInvocations, decision.CandidateInvocations));
        Assert.StartsWith("For agent planner on task type itinerary, experiment model-swap (verdict guardrail_violated) decides", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("do not switch to openai/gpt-4o-mini; a guardrail was violated", decision.Reason, StringComparison.Ordinal);

        // GET /api/v1/models lists the decision not to switch.
        var rest = JsonSerializer.Serialize(CostEndpoints.Models(harness.Models, recommender, "default", harness.Models.Options.Windows[0]),
            new JsonSerializerOptions(JsonSerializerDefaults.Web));
        Assert.Contains("\"recommendations\":[]", rest, StringComparison.Ordinal);
        Assert.Contains("\"verdict\":\"guardrail_violated\",\"advised\":false", rest, StringComparison.Ordinal);

        // The variants say which model served them.
        var report = harness.Experiments.Report("default", "model-swap")!;
        Assert.Equal(new VariantModel("openai", "gpt-4o-mini", 200), report.Variants.Single(v => v.Variant == "cheaper").ServedBy);
        Assert.Equal(new VariantModel("openai", "gpt-4o", 200), report.Variants.Single(v => v.Variant == "control").ServedBy);
    }

    [Fact]
    public async Task ANoDifferenceExperimentAdvisesTheCheaperModelTheComparisonWouldNot_SayingWhichExperimentDecided()
    {
        await using var harness = new CostHarness(Now, Definition());
        await harness.StartAsync();
        // Experiment: 900/1000 each; Newcombe interval of the difference 0 ± 0.026 lies within ±τ = 0.05, and the mSPRT
        // p-value is 1: no_difference. Outside it the cheaper model also did 200 of the agent's itineraries, 100 well,
        // so the comparison's cohort (1000/1200 = 0.833 against 0.9) puts the difference's lower limit below -0.05.
        for (var i = 0; i < 1000; i++)
        {
            Serve(harness, "gpt-4o", 0.10, success: i % 10 != 0, "control");
            Serve(harness, "gpt-4o-mini", 0.02, success: i % 10 != 0, "cheaper", callLater: i % 3 == 0);
        }
        for (var i = 0; i < 200; i++)
        {
            Serve(harness, "gpt-4o-mini", 0.02, success: i % 2 == 0);
        }

        Assert.Empty(new ModelRecommendations(harness.Models).GetRecommendations("default"));
        Assert.Equal(ExperimentVerdict.NoDifference, harness.Experiments.Report("default", "model-swap")!.Analysis!.Verdict);

        var recommender = harness.Get<IModelRecommendations>();
        var recommendation = Assert.Single(recommender.GetRecommendations("default"));
        Assert.Equal((ModelRecommendation.FromExperiment, "model-swap", "no_difference"),
            (recommendation.Source, recommendation.Experiment, recommendation.ExperimentVerdict));
        Assert.Equal(("planner", "itinerary", "gpt-4o", "gpt-4o-mini"),
            (recommendation.Agent, recommendation.TaskType, recommendation.CurrentModel, recommendation.RecommendedModel));
        // The figures are the experiment's variants': 1000 each, 0.9 each, 80 % cheaper.
        Assert.Equal((1000, 1000), (recommendation.CurrentInvocations, recommendation.RecommendedInvocations));
        Assert.Equal(0.9, recommendation.RecommendedSuccessRate.Estimate, 12);
        Assert.Equal(0.8, recommendation.SavingsRatio, 12);
        Assert.Contains("experiment model-swap (verdict no_difference)", recommendation.Reason, StringComparison.Ordinal);
        Assert.Contains("use openai/gpt-4o-mini; no difference on success and 80% cheaper", recommendation.Reason, StringComparison.Ordinal);
        Assert.True(Assert.Single(recommender.GetExperimentAdvice("default")).Advised);

        // GET /api/v1/models says where the advice comes from (the route's answer, serialized as the route does).
        var rest = JsonSerializer.Serialize(CostEndpoints.Models(harness.Models, recommender, "default", harness.Models.Options.Windows[0]),
            new JsonSerializerOptions(JsonSerializerDefaults.Web));
        Assert.Contains("\"source\":\"experiment\",\"experiment\":\"model-swap\",\"experimentVerdict\":\"no_difference\"", rest, StringComparison.Ordinal);
        Assert.Contains("\"experimentAdvice\":[{\"agent\":\"planner\",\"taskType\":\"itinerary\",\"experiment\":\"model-swap\",\"verdict\":\"no_difference\",\"advised\":true", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWinnerExperimentAdvisesOnlyWhenTheCheaperVariantWon()
    {
        // The worked example of docs/collector/experiments.md reversed: the cheaper model 500/1000, the dearer 580/1000;
        // p = 0.011: the control (gpt-4o) wins, so the cheaper model is not advised.
        await using var harness = new CostHarness(Now, Definition());
        await harness.StartAsync();
        for (var i = 0; i < 1000; i++)
        {
            Serve(harness, "gpt-4o", 0.10, success: i < 580, "control");
            Serve(harness, "gpt-4o-mini", 0.02, success: i < 500, "cheaper");
        }

        var decision = Assert.Single(harness.Get<IModelRecommendations>().GetExperimentAdvice("default"));
        Assert.Equal(("winner", false), (decision.Verdict, decision.Advised));
        Assert.Contains("variant control won on success", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(harness.Get<IModelRecommendations>().GetRecommendations("default"));
    }

    [Fact]
    public async Task AnExperimentThatIsNotDefinedOrNotOfOneModelPerVariantDecidesNothing()
    {
        // Undefined: the same data as the no-difference case decides nothing; the comparison's answer stands.
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        for (var i = 0; i < 200; i++)
        {
            Serve(harness, "gpt-4o", 0.10, success: true, "control");
            Serve(harness, "gpt-4o-mini", 0.02, success: true, "cheaper");
        }
        Assert.Empty(harness.Get<IModelRecommendations>().GetExperimentAdvice("default"));
        Assert.Equal(ModelRecommendation.FromComparison, Assert.Single(harness.Get<IModelRecommendations>().GetRecommendations("default")).Source);

        // Defined, but the cheaper variant was served by two models: no single model to advise.
        await using var mixed = new CostHarness(Now, Definition(("Guardrails:latency", "0.1")));
        await mixed.StartAsync();
        for (var i = 0; i < 200; i++)
        {
            Serve(mixed, "gpt-4o", 0.10, success: true, "control", i % 2 == 0 ? 1 : 3);
            Serve(mixed, i % 2 == 0 ? "gpt-4o-mini" : "gpt-3.5-turbo", 0.02, success: true, "cheaper", i % 2 == 0 ? 2 : 4);
        }
        Assert.Null(mixed.Experiments.Report("default", "model-swap")!.Variants.Single(v => v.Variant == "cheaper").ServedBy);
        Assert.Empty(mixed.Get<IModelRecommendations>().GetExperimentAdvice("default"));
    }
}
