namespace Reasoner.Cli.Hosting;

/// <summary>Where the real data sets live: DataDir when set, else <c>../shared/data</c> beside the repository.</summary>
public static class DataDirectory
{
    public static string Resolve(ReasonerSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.DataDir)) return Path.GetFullPath(settings.DataDir);
        var root = Core.RepositoryRoot.TryFind() ?? Directory.GetCurrentDirectory();
        return Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
    }
}
