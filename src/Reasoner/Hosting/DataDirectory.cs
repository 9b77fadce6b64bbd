namespace Reasoner.Cli.Hosting;

/// <summary>Where the real data sets live: DataDir when set, else <c>../shared/data</c> beside the repository.</summary>
public static class DataDirectory
{
    public static string Resolve(ReasonerSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.DataDir)) return Path.GetFullPath(settings.DataDir);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Reasoner.sln")))
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
            }
        }
        return Path.GetFullPath(Path.Combine("..", "shared", "data"));
    }
}
