using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Deploy.Tests;

public class ChartRenderingTests
{
    private static string[] Scenario(string name) => ["-f", Path.Combine("ci", name)];

    [Fact]
    public void Lint_IsClean_ForDefaultsAndEveryCiScenario()
    {
        var scenarios = Directory.GetFiles(Path.Combine(Helm.ChartDirectory, "ci"), "*-values.yaml");
        Assert.NotEmpty(scenarios);
        var (code, stdout, stderr) = Helm.Run("lint", ".", "--strict");
        Assert.True(code == 0, stdout + stderr);
        foreach (var file in scenarios)
        {
            (code, stdout, stderr) = Helm.Run("lint", ".", "--strict", "-f", file);
            Assert.True(code == 0, $"{Path.GetFileName(file)}: {stdout}{stderr}");
        }
    }

    [Fact]
    public void Defaults_RenderOneSqliteReplicaWithClaimProbesAndRestrictiveSecurity()
    {
        var r = Helm.Template();
        Assert.True(r.Has("ServiceAccount"));
        Assert.False(r.Has("ServiceMonitor"));
        Assert.False(r.Has("PrometheusRule"));
        Assert.DoesNotContain(r.OfKind("ConfigMap"), c => Yaml.Node(c, "metadata.labels.grafana_dashboard") is not null);

        var deployment = r.Single("Deployment");
        Assert.Equal("1", Yaml.Str(deployment, "spec.replicas"));
        Assert.Equal("Recreate", Yaml.Str(deployment, "spec.strategy.type"));

        var labels = Yaml.StringMap(deployment, "metadata.labels");
        Assert.Equal("perfotel", labels["app.kubernetes.io/name"]);
        Assert.Equal("perfotel", labels["app.kubernetes.io/instance"]);
        Assert.Equal("Helm", labels["app.kubernetes.io/managed-by"]);
        Assert.Equal("perfotel-0.1.0", labels["helm.sh/chart"]);

        var podSpec = Yaml.Map(deployment, "spec.template.spec");
        Assert.Equal("true", Yaml.Str(podSpec, "securityContext.runAsNonRoot"));
        Assert.Equal("perfotel", Yaml.Str(podSpec, "serviceAccountName"));
        var container = Yaml.Map(podSpec, "containers.0");
        Assert.Equal("perfotel/collector:0.1.0", Yaml.Str(container, "image"));
        Assert.Equal("true", Yaml.Str(container, "securityContext.readOnlyRootFilesystem"));
        Assert.Equal("false", Yaml.Str(container, "securityContext.allowPrivilegeEscalation"));
        Assert.Equal("ALL", Yaml.Str(container, "securityContext.capabilities.drop.0"));
        Assert.Equal("4318", Yaml.Str(container, "ports.0.containerPort"));
        Assert.Equal("http", Yaml.Str(container, "ports.0.name"));
        foreach (var probe in new[] { "livenessProbe", "readinessProbe" })
        {
            Assert.Equal("/healthz", Yaml.Str(container, probe + ".httpGet.path"));
            Assert.Equal("http", Yaml.Str(container, probe + ".httpGet.port"));
        }
        Assert.Contains("--urls=http://0.0.0.0:4318", Yaml.Seq(container, "args").Select(a => ((YamlScalarNode)a).Value));
        // OTLP/gRPC on its default port beside OTLP/HTTP, named so the Service can route to it.
        Assert.Contains("--Otlp:GrpcEndpoint=http://0.0.0.0:4317", Yaml.Seq(container, "args").Select(a => ((YamlScalarNode)a).Value));
        Assert.Equal("4317", Yaml.Str(container, "ports.1.containerPort"));
        Assert.Equal("otlp-grpc", Yaml.Str(container, "ports.1.name"));

        // Volume wiring: config from our ConfigMap, data on our claim, a writable /tmp.
        var mounts = Yaml.Seq(container, "volumeMounts").Cast<YamlMappingNode>()
            .ToDictionary(m => Yaml.Str(m, "name")!, m => Yaml.Str(m, "mountPath")!);
        Assert.Equal("/etc/perfotel", mounts["config"]);
        Assert.Equal("/data", mounts["data"]);
        Assert.Equal("/tmp", mounts["tmp"]);
        var volumes = Yaml.Seq(podSpec, "volumes").Cast<YamlMappingNode>().ToDictionary(v => Yaml.Str(v, "name")!);
        var claim = r.Single("PersistentVolumeClaim");
        Assert.Equal(Yaml.Str(claim, "metadata.name"), Yaml.Str(volumes["data"], "persistentVolumeClaim.claimName"));
        Assert.Equal("10Gi", Yaml.Str(claim, "spec.resources.requests.storage"));
        var configMap = r.OfKind("ConfigMap").Single(c => Yaml.Str(c, "metadata.name") == "perfotel");
        Assert.Equal("perfotel", Yaml.Str(volumes["config"], "configMap.name"));

        var env = Env(container);
        Assert.Equal("/etc/perfotel/perfotel.json", env["PERFOTEL_CONFIG"].Value);
        Assert.False(env.ContainsKey("PERFOTEL__Storage__ConnectionString"));

        using var config = JsonDocument.Parse(Yaml.Str(configMap, "data.[perfotel.json]")!);
        var storage = config.RootElement.GetProperty("Storage");
        Assert.Equal("sqlite", storage.GetProperty("Provider").GetString());
        Assert.Equal("/data", storage.GetProperty("DataDirectory").GetString());
        Assert.Equal(30, storage.GetProperty("RetentionDays").GetInt32());

        // The Service routes to the pods the Deployment selects, on the named port.
        var service = r.Single("Service");
        Assert.Equal(Yaml.StringMap(deployment, "spec.selector.matchLabels"), Yaml.StringMap(service, "spec.selector"));
        Assert.Equal("http", Yaml.Str(service, "spec.ports.0.targetPort"));
        Assert.Equal("4318", Yaml.Str(service, "spec.ports.0.port"));
        Assert.Equal("4317", Yaml.Str(service, "spec.ports.1.port"));
        Assert.Equal("otlp-grpc", Yaml.Str(service, "spec.ports.1.targetPort"));
        Assert.Equal("kubernetes.io/h2c", Yaml.Str(service, "spec.ports.1.appProtocol"));
    }

    [Fact]
    public void GrpcPortZero_TurnsTheGrpcReceiverOff_AndRendersNoGrpcPort()
    {
        var r = Helm.Template("--set", "service.grpcPort=0");
        var container = r.CollectorContainer();

        Assert.Contains("--Otlp:GrpcEndpoint=none", Yaml.Seq(container, "args").Select(a => ((YamlScalarNode)a).Value));
        Assert.DoesNotContain(Yaml.Seq(container, "ports").Cast<YamlMappingNode>(), p => Yaml.Str(p, "name") == "otlp-grpc");
        Assert.DoesNotContain(Yaml.Seq(r.Single("Service"), "spec.ports").Cast<YamlMappingNode>(), p => Yaml.Str(p, "name") == "otlp-grpc");
    }

    [Fact]
    public void HelmTestHook_ChecksHealthzThroughTheService()
    {
        var r = Helm.Template();
        var pod = r.OfKind("Pod").Single();
        Assert.Equal("test", Yaml.Str(pod, "metadata.annotations.[helm.sh/hook]"));
        var command = string.Join(' ', Yaml.Seq(pod, "spec.containers.0.command").Select(n => ((YamlScalarNode)n).Value));
        Assert.Contains("http://perfotel:4318/healthz", command, StringComparison.Ordinal);
    }

    [Fact]
    public void Postgres_RendersReplicasWithoutClaimAndWiresTheSecret()
    {
        var r = Helm.Template(Scenario("postgres-values.yaml"));
        Assert.False(r.Has("PersistentVolumeClaim"));
        var deployment = r.Single("Deployment");
        Assert.Equal("3", Yaml.Str(deployment, "spec.replicas"));
        Assert.Null(Yaml.Node(deployment, "spec.strategy"));
        var container = Yaml.Map(deployment, "spec.template.spec.containers.0");
        var secretRef = Env(container)["PERFOTEL__Storage__ConnectionString"].SecretRef;
        Assert.Equal(("perfotel-postgres", "dsn"), secretRef);
        var volumes = Yaml.Seq(deployment, "spec.template.spec.volumes").Cast<YamlMappingNode>().Select(v => Yaml.Str(v, "name"));
        Assert.DoesNotContain("data", volumes);
        var configMap = r.OfKind("ConfigMap").Single();
        using var config = JsonDocument.Parse(Yaml.Str(configMap, "data.[perfotel.json]")!);
        Assert.Equal("postgres", config.RootElement.GetProperty("Storage").GetProperty("Provider").GetString());
        // Several pods on one database: one derivation leader (docs/collector/scale-out.md); the ServiceMonitor's
        // endpoints are the pods, so Prometheus scrapes each replica.
        Assert.Equal("shared", config.RootElement.GetProperty("Derivation").GetProperty("Mode").GetString());
    }

    [Fact]
    public void Sqlite_RendersOneDerivingProcess()
    {
        var r = Helm.Template();
        using var config = JsonDocument.Parse(r.CollectorConfig());
        Assert.Equal("single", config.RootElement.GetProperty("Derivation").GetProperty("Mode").GetString());
        Assert.Equal("1", Yaml.Str(r.Single("Deployment"), "spec.replicas"));
    }

    [Fact]
    public void SqliteScenario_UsesTheStorageClassAndDurability()
    {
        var r = Helm.Template(Scenario("sqlite-values.yaml"));
        var claim = r.Single("PersistentVolumeClaim");
        Assert.Equal("fast-ssd", Yaml.Str(claim, "spec.storageClassName"));
        Assert.Equal("20Gi", Yaml.Str(claim, "spec.resources.requests.storage"));
        using var config = JsonDocument.Parse(r.CollectorConfig());
        Assert.Equal("normal", config.RootElement.GetProperty("Storage").GetProperty("Durability").GetString());
    }

    [Fact]
    public void NoPersistence_UsesEmptyDirAndNoServiceAccount()
    {
        var r = Helm.Template(Scenario("no-persistence-values.yaml"));
        Assert.False(r.Has("PersistentVolumeClaim"));
        Assert.False(r.Has("ServiceAccount"));
        var podSpec = Yaml.Map(r.Single("Deployment"), "spec.template.spec");
        Assert.Equal("default", Yaml.Str(podSpec, "serviceAccountName"));
        var data = Yaml.Seq(podSpec, "volumes").Cast<YamlMappingNode>().Single(v => Yaml.Str(v, "name") == "data");
        Assert.NotNull(Yaml.Node(data, "emptyDir"));
    }

    [Fact]
    public void KubePrometheusStack_RendersServiceMonitorRulesDashboardsAndConfig()
    {
        var r = Helm.Template(Scenario("kube-prometheus-stack-values.yaml"));

        var monitor = r.Single("ServiceMonitor");
        Assert.Equal("kube-prometheus-stack", Yaml.Str(monitor, "metadata.labels.release"));
        Assert.Equal("http", Yaml.Str(monitor, "spec.endpoints.0.port"));
        Assert.Equal("/metrics", Yaml.Str(monitor, "spec.endpoints.0.path"));
        Assert.Equal("15s", Yaml.Str(monitor, "spec.endpoints.0.interval"));
        Assert.Equal(Yaml.StringMap(r.Single("Service"), "spec.selector"), Yaml.StringMap(monitor, "spec.selector.matchLabels"));
        Assert.Equal("observability", Yaml.Str(monitor, "spec.namespaceSelector.matchNames.0"));

        var rule = r.Single("PrometheusRule");
        Assert.Equal("kube-prometheus-stack", Yaml.Str(rule, "metadata.labels.release"));
        var renderedGroups = (Yaml.Node(rule, "spec.groups") as YamlSequenceNode)?.Children.Count ?? 0;
        Assert.Equal(SourceAssets.RuleGroupCount(), renderedGroups);

        var dashboards = r.OfKind("ConfigMap").Where(c => Yaml.Str(c, "metadata.labels.grafana_dashboard") == "1").ToList();
        Assert.Equal(SourceAssets.DashboardFiles().Count, dashboards.Count);
        foreach (var cm in dashboards)
        {
            Assert.Equal("PerfOtel", Yaml.Str(cm, "metadata.annotations.grafana_folder"));
            var (file, json) = Yaml.Map(cm, "data").Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, ((YamlScalarNode)kv.Value).Value!)).Single();
            Assert.Equal(File.ReadAllText(Path.Combine(SourceAssets.DashboardsDirectory, file)).TrimEnd(), json.TrimEnd());
        }

        using var config = JsonDocument.Parse(r.CollectorConfig());
        Assert.Equal(0.85, config.RootElement.GetProperty("Thresholds").GetProperty("MinSuccessRate").GetDouble());
        Assert.Equal(50, config.RootElement.GetProperty("Budgets").GetProperty("Tenants").GetProperty("default").GetProperty("DailyUsd").GetDouble());
        var configMapData = Yaml.Map(r.OfKind("ConfigMap").Single(c => Yaml.Str(c, "metadata.name") == "perfotel"), "data");
        Assert.Equal("/etc/perfotel/pricing.json", config.RootElement.GetProperty("Otlp").GetProperty("PricingOverridesPath").GetString());
        using var pricing = JsonDocument.Parse(Yaml.Str(configMapData, "[pricing.json]")!);
        Assert.Equal(12.0, pricing.RootElement.GetProperty("providers").GetProperty("openai").GetProperty("models").GetProperty("my-finetune").GetProperty("output").GetDouble());
    }

    [Fact]
    public void ServiceMonitor_HonorsTheProducersJobAndInstance_OnlyWhenAsked()
    {
        // Default: Prometheus's own rule (the pushed series' job/instance become exported_job/exported_instance).
        var byDefault = Helm.Template("--set", "serviceMonitor.enabled=true");
        Assert.Null(Yaml.Node(byDefault.Single("ServiceMonitor"), "spec.endpoints.0.honorLabels"));

        var honoured = Helm.Template("--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.honorLabels=true");
        var endpoint = Yaml.Map(honoured.Single("ServiceMonitor"), "spec.endpoints.0");
        Assert.Equal("true", Yaml.Str(endpoint, "honorLabels"));
        Assert.Equal("/metrics", Yaml.Str(endpoint, "path"));

        var off = Helm.Template("--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.honorLabels=false");
        Assert.Null(Yaml.Node(off.Single("ServiceMonitor"), "spec.endpoints.0.honorLabels"));

        // A string is refused by the schema, naming the value.
        var (code, _, stderr) = Helm.Run("template", "perfotel", ".", "--set", "serviceMonitor.enabled=true", "--set-string", "serviceMonitor.honorLabels=yes");
        Assert.NotEqual(0, code);
        Assert.Contains("honorLabels", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("replicaCount=2", "replicaCount > 1 needs storage.provider=postgres")]
    [InlineData("storage.provider=postgres", "storage.postgres.existingSecret is required")]
    [InlineData("storage.provider=mysql", "/storage/provider")]
    [InlineData("service.port=0", "/service/port")]
    public void NonsensicalValues_FailRenderingNamingTheSetting(string set, string expected)
    {
        var (code, _, stderr) = Helm.Run("template", "perfotel", ".", "--set", set);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    private static Dictionary<string, (string? Value, (string?, string?) SecretRef)> Env(YamlMappingNode container) =>
        Yaml.Seq(container, "env").Cast<YamlMappingNode>().ToDictionary(
            e => Yaml.Str(e, "name")!,
            e => (Yaml.Str(e, "value"), (Yaml.Str(e, "valueFrom.secretKeyRef.name"), Yaml.Str(e, "valueFrom.secretKeyRef.key"))));
}
