using Reasoner.Cli.Hosting;
using Reasoner.Core.Storage;

namespace Reasoner.Cli.Commands;

/// <summary>A run named on the command line: a folder path, or a name under the runs folder.</summary>
static class RunLocation
{
    /// <summary>Where a new run goes: a bare name under RunsDir, anything with a folder in it is a path.</summary>
    public static string ForOutput(string output, ReasonerSettings settings) =>
        Path.GetFullPath(Path.IsPathRooted(output) || output.IndexOfAny(['/', Path.DirectorySeparatorChar]) >= 0
            ? output
            : Path.Combine(settings.RunsDir, output));

    /// <summary>An existing run: a folder path, or a name under RunsDir.</summary>
    public static string Resolve(string run, ReasonerSettings settings)
    {
        if (Directory.Exists(Path.Combine(run, TreeStore.TreesFolderName))) return Path.GetFullPath(run);
        var underRuns = Path.Combine(settings.RunsDir, run);
        if (Directory.Exists(Path.Combine(underRuns, TreeStore.TreesFolderName))) return Path.GetFullPath(underRuns);
        throw new UserError($"run '{run}' not found: neither {Path.Combine(run, TreeStore.TreesFolderName)} nor {Path.Combine(underRuns, TreeStore.TreesFolderName)} exists");
    }
}
