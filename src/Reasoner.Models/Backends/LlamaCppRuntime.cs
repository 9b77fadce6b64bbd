using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Reasoner.Models.Backends;

/// <summary>
/// Process-wide llama.cpp setup. llama.cpp logs through one global callback and by default prints every load step to
/// stderr, which would mix with the CLI's own output; its lines go to the latest logger given, warnings and up only.
/// </summary>
internal static class LlamaCppRuntime
{
    private static readonly Lock Sync = new();
    private static bool initialized;
    private static ILogger? logger;

    public static void Initialize(ILogger? log)
    {
        lock (Sync)
        {
            if (log is not null) logger = log;
            if (initialized) return;
            NativeLogConfig.llama_log_set(Forward);
            initialized = true;
        }
    }

    private static void Forward(LLamaLogLevel level, string message)
    {
        var target = logger;
        if (target is null) return;
        var mapped = level switch
        {
            LLamaLogLevel.Error => LogLevel.Error,
            LLamaLogLevel.Warning => LogLevel.Warning,
            _ => LogLevel.None,
        };
        if (mapped != LogLevel.None) target.Log(mapped, "llama.cpp: {Message}", message.TrimEnd());
    }
}
