using Microsoft.Playwright;

namespace Reasoner.Cli.Viewing;

/// <summary>
/// Headless Chromium through Playwright for .NET, for screenshots of the viewer and its render benchmark. The browser is the
/// system's (Debian's <c>chromium</c> package, or <c>REASONER_CHROMIUM</c>): Playwright's own browser download cannot work offline.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string DefaultPath = "/usr/bin/chromium";

    readonly IPlaywright playwright;

    HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        this.playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static string ExecutablePath => Environment.GetEnvironmentVariable("REASONER_CHROMIUM") is { Length: > 0 } path ? path : DefaultPath;

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        var path = ExecutablePath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found: install Debian's chromium (apt-get install chromium) or set REASONER_CHROMIUM to a Chromium executable", path);
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = path,
                Headless = true,
                // Without these, Chromium keeps trying to reach Google's hosts, which a closed network refuses.
                Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            return new HeadlessChromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Opens a viewer page and waits until it has drawn (the page sets <c>data-ready</c> on its body).</summary>
    public async Task<IPage> OpenAsync(Uri url, int width = 1400, int height = 900)
    {
        var page = await Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        await page.GotoAsync(url.ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]", new PageWaitForSelectorOptions { Timeout = 120_000 });
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        playwright.Dispose();
    }
}
