using Reasoner.Cli;

namespace Reasoner.Tests.Cli;

/// <summary>Runs the executable's command tree in-process and captures what it prints.</summary>
static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Err);

    public static async Task<Result> Run(IReadOnlyDictionary<string, string?>? config = null, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await ReasonerApp.RunAsync(args, stdout, stderr, config);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    public static Task<Result> Run(params string[] args) => Run(null, args);
}
