using Microsoft.Playwright;
using Reasoner.Cli.Viewing;

namespace Reasoner.Tests.Viewing;

/// <summary>
/// Debian's headless Chromium driven by Playwright for .NET, one browser per test class; <c>.ci/run</c> installs the
/// <c>chromium</c> package when it is missing.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    HeadlessChromium? chromium;

    public async Task InitializeAsync() => chromium = await HeadlessChromium.LaunchAsync();

    public async Task DisposeAsync()
    {
        if (chromium is not null) await chromium.DisposeAsync();
    }

    /// <summary>A fresh page of the given size, its console errors collected.</summary>
    public async Task<(IPage Page, List<string> Errors)> NewPageAsync(int width = 1400, int height = 900)
    {
        var page = await chromium!.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") lock (errors) errors.Add(m.Text); };
        page.PageError += (_, e) => { lock (errors) errors.Add(e); };
        return (page, errors);
    }
}
