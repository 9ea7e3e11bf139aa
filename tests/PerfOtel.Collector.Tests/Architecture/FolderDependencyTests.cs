using System.Reflection;
using System.Reflection.Emit;
using System.Text.RegularExpressions;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Architecture;

/// <summary>
/// The collector's folders depend one way (docs/architecture.md, "The collector's folders"): a folder uses only folders
/// of a lower layer. Checked twice: on the compiled assembly (every type a type's declaration, signatures, locals and
/// method bodies name, compiler-generated closures and state machines included) and on the source's <c>using</c>
/// directives and fully qualified names (constants are inlined by the compiler, so only the source shows them).
/// </summary>
public sealed partial class FolderDependencyTests
{
    /// <summary>The layers, lowest first. A folder may use its own layer's folder and the folders of lower layers.</summary>
    public static readonly IReadOnlyList<string[]> Layers =
    [
        ["Records", "Telemetry"],
        ["Storage"],
        ["Derived"],
        ["Ingest"],
        ["Receiving"],
        ["Exposure"],
        ["Security"],
        ["Hosting"],
    ];

    /// <summary>
    /// The caller's identity, which <c>Security/</c> establishes and the edge (<c>Receiving/</c>) and the readers
    /// (<c>Exposure/</c>) read to decide a request's tenant, with the key check the pages' sign-in form makes. The one
    /// departure from the layers, listed in docs/architecture.md.
    /// </summary>
    private static readonly HashSet<string> SecurityIdentityTypes = new(StringComparer.Ordinal)
    {
        "PerfOtel.Collector.Security.ApiCaller",
        "PerfOtel.Collector.Security.ApiRole",
        "PerfOtel.Collector.Security.ApiRoles",
        "PerfOtel.Collector.Security.ApiKey",
        "PerfOtel.Collector.Security.ApiKeyRegistry",
        "PerfOtel.Collector.Security.UiSession",
    };

    private const string Root = "PerfOtel.Collector.";

    private static readonly Assembly Collector = typeof(Collector.Records.IExecutionStore).Assembly;

    [Fact]
    public void Every_folder_is_in_a_layer()
    {
        var known = Layers.SelectMany(l => l).ToHashSet(StringComparer.Ordinal);
        var folders = Directory.GetDirectories(RepoPaths.Combine("src", "Collector"))
            .Select(Path.GetFileName)
            .Where(f => f is not ("bin" or "obj"))
            .Where(f => Directory.EnumerateFiles(RepoPaths.Combine("src", "Collector", f!), "*.cs", SearchOption.AllDirectories).Any())
            .ToList();
        Assert.Equal(known.Order(StringComparer.Ordinal), folders.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Compiled_types_reference_only_lower_layers()
    {
        var wrong = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in Collector.GetTypes())
        {
            if (FolderOf(type.Namespace) is not { } from)
            {
                continue;
            }
            foreach (var referenced in ReferencedTypes(type).SelectMany(Expand).Distinct())
            {
                if (FolderOf(referenced.Namespace) is { } to && !Allowed(from, to, referenced.FullName))
                {
                    wrong.Add($"{from} -> {to}: {Outermost(type).FullName} uses {referenced.FullName}");
                }
            }
        }
        Assert.True(wrong.Count == 0, "References against the layers:\n" + string.Join('\n', wrong));
    }

    [Fact]
    public void Source_names_only_lower_layers()
    {
        var source = RepoPaths.Combine("src", "Collector");
        var wrong = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            var from = relative.Split(Path.DirectorySeparatorChar)[0];
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal)
                || LayerOf(from) is null)
            {
                continue;
            }
            var lineNumber = 0;
            foreach (var line in File.ReadLines(file))
            {
                lineNumber++;
                var code = line.TrimStart();
                if (code.StartsWith("//", StringComparison.Ordinal))
                {
                    continue; // comments and XML documentation may name any folder
                }
                foreach (Match match in QualifiedName().Matches(code))
                {
                    var to = match.Groups["folder"].Value;
                    var name = Root + to + match.Groups["rest"].Value;
                    if (LayerOf(to) is not null && !Allowed(from, to, name))
                    {
                        wrong.Add($"{relative}:{lineNumber}: {from} -> {to}: {code}");
                    }
                }
            }
        }
        Assert.True(wrong.Count == 0, "Source naming a folder against the layers:\n" + string.Join('\n', wrong));
    }

    [Fact]
    public void The_check_sees_a_wrong_reference()
    {
        // The scanner itself: Ingest's writer applies derivations (Ingest -> Derived, allowed); the reverse is refused.
        Assert.True(Allowed("Ingest", "Derived", Root + "Derived.DerivationPipeline"));
        Assert.False(Allowed("Derived", "Ingest", Root + "Ingest.IngestQueue"));
        Assert.False(Allowed("Records", "Telemetry", Root + "Telemetry.CollectorMetrics"));
        var writer = Collector.GetType(Root + "Ingest.IngestWriter", throwOnError: true)!;
        Assert.Contains(ReferencedTypes(writer).SelectMany(Expand), t => t.FullName == Root + "Derived.Coordination.LiveDerivations");
        Assert.Contains(ReferencedTypes(writer).SelectMany(Expand), t => t.FullName == Root + "Telemetry.CollectorMetrics");
    }

    private static bool Allowed(string from, string to, string? fullName) =>
        from == to
        || LayerOf(to) < LayerOf(from)
        || (to == "Security" && from is "Receiving" or "Exposure" && fullName is not null
            && (fullName == Root + "Security" // the namespace import; the compiled check sees which of its types are used
                || SecurityIdentityTypes.Any(t => fullName == t || fullName.StartsWith(t + ".", StringComparison.Ordinal))));

    private static int? LayerOf(string folder)
    {
        for (var i = 0; i < Layers.Count; i++)
        {
            if (Layers[i].Contains(folder, StringComparer.Ordinal))
            {
                return i;
            }
        }
        return null;
    }

    private static string? FolderOf(string? ns) =>
        ns is not null && ns.StartsWith(Root, StringComparison.Ordinal) ? ns[Root.Length..].Split('.')[0] : null;

    private static Type Outermost(Type type) => type.DeclaringType is { } outer ? Outermost(outer) : type;

    [GeneratedRegex(@"\bPerfOtel\.Collector\.(?<folder>[A-Z]\w*)(?<rest>(\.[A-Z]\w*)*)|(?<![\w.])(?<folder>Records|Telemetry|Storage|Derived|Ingest|Receiving|Exposure|Security|Hosting)(?<rest>(\.[A-Z]\w*)+)")]
    private static partial Regex QualifiedName();

    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.HasElementType)
        {
            foreach (var t in Expand(type.GetElementType()!))
            {
                yield return t;
            }
            yield break;
        }
        if (type.IsGenericParameter)
        {
            yield break;
        }
        if (type.IsConstructedGenericType)
        {
            yield return type.GetGenericTypeDefinition();
            foreach (var t in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return t;
            }
            yield break;
        }
        yield return type;
    }

    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> ReferencedTypes(Type type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }
        foreach (var implemented in type.GetInterfaces())
        {
            yield return implemented;
        }
        foreach (var field in type.GetFields(Declared))
        {
            yield return field.FieldType;
        }
        foreach (var property in type.GetProperties(Declared))
        {
            yield return property.PropertyType;
        }
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }
            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }
            if (method.GetMethodBody() is not { } body)
            {
                continue;
            }
            foreach (var local in body.LocalVariables)
            {
                yield return local.LocalType;
            }
            foreach (var used in TypesInBody(method, body.GetILAsByteArray() ?? []))
            {
                yield return used;
            }
        }
    }

    private static readonly OpCode[] OneByte = new OpCode[0x100];
    private static readonly OpCode[] TwoByte = new OpCode[0x100];

#pragma warning disable CA1810 // the opcode tables are filled from OpCodes' fields once
    static FolderDependencyTests()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            var value = unchecked((ushort)code.Value);
            if (value < 0x100)
            {
                OneByte[value] = code;
            }
            else if ((value & 0xff00) == 0xfe00)
            {
                TwoByte[value & 0xff] = code;
            }
        }
    }
#pragma warning restore CA1810

    /// <summary>The types a method body names: those of the types, fields and methods its instructions take as operands.</summary>
    private static IEnumerable<Type> TypesInBody(MethodBase method, byte[] il)
    {
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method is { IsGenericMethod: true } ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            var code = il[position] == 0xfe ? TwoByte[il[++position]] : OneByte[il[position]];
            position++;
            switch (code.OperandType)
            {
                case OperandType.InlineType:
                case OperandType.InlineTok:
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                    var member = method.Module.ResolveMember(BitConverter.ToInt32(il, position), typeArguments, methodArguments);
                    switch (member)
                    {
                        case Type type:
                            yield return type;
                            break;
                        case FieldInfo field:
                            yield return field.DeclaringType!;
                            yield return field.FieldType;
                            break;
                        case MethodBase called:
                            yield return called.DeclaringType!;
                            if (called is MethodInfo { IsGenericMethod: true } generic)
                            {
                                foreach (var argument in generic.GetGenericArguments())
                                {
                                    yield return argument;
                                }
                            }
                            break;
                    }
                    position += 4;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    position += 1;
                    break;
                case OperandType.InlineVar:
                    position += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    position += 8;
                    break;
                case OperandType.InlineSwitch:
                    position += 4 + (4 * BitConverter.ToInt32(il, position));
                    break;
                default:
                    position += 4; // InlineI, InlineBrTarget, InlineSig, InlineString, ShortInlineR
                    break;
            }
        }
    }
}
