using Reasoner.Core.Prompts;

namespace Reasoner.Cli.Hosting;

/// <summary>The prompt library in force: PromptsDir when set, else the repository's <c>prompts/</c>.</summary>
public static class PromptFolder
{
    public static PromptLibrary Open(ReasonerSettings settings) =>
        new(string.IsNullOrWhiteSpace(settings.PromptsDir) ? PromptLibrary.FindDefaultRoot() : settings.PromptsDir);
}
