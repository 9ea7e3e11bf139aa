namespace PerfOtel.Collector.Security;

/// <summary>
/// <c>new-api-key</c> and <c>hash-api-key [key]</c>: make keys and their configuration hashes without starting the
/// collector. Only a first argument naming a command is one, so <c>--Section:Key=value</c> configuration is untouched.
/// </summary>
public static class ApiKeyCommands
{
    public const string NewKey = "new-api-key";
    public const string HashKey = "hash-api-key";

    /// <summary>The exit code when the arguments are a command (after running it), or null to start the collector.</summary>
    public static int? Run(string[] args, TextWriter output, TextWriter error, TextReader input)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(input);
        if (args.Length == 0)
        {
            return null;
        }

        switch (args[0])
        {
            case NewKey when args.Length == 1:
                var key = ApiKeyHash.NewKey();
                output.WriteLine($"key: {key}");
                output.WriteLine($"sha256: {ApiKeyHash.HashHex(key)}");
                output.WriteLine("Give the key to its client (Authorization: Bearer <key>) and keep only the sha256 in Auth:Keys.");
                return 0;
            case HashKey when args.Length <= 2:
                // Read from stdin when not given, so the key need not appear in the shell history or the process list.
                var presented = args.Length == 2 ? args[1] : input.ReadLine();
                if (string.IsNullOrWhiteSpace(presented))
                {
                    error.WriteLine($"usage: {HashKey} <key>   (or the key on standard input)");
                    return 2;
                }

                output.WriteLine($"sha256: {ApiKeyHash.HashHex(presented.Trim())}");
                return 0;
            case NewKey or HashKey:
                error.WriteLine($"usage: {NewKey} | {HashKey} [key]");
                return 2;
            default:
                return null;
        }
    }
}
