using Microsoft.Playwright;
using Reasoner.Cli.Viewing;
using Reasoner.Core.Prompts;

namespace Reasoner.Tests.Viewing;

/// <summary>The viewer's pages in a real browser: filtering and sorting runs, and a tree's graph clicked, collapsed and coloured.</summary>
public sealed class BrowserTests(Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    readonly string root = Directory.CreateTempSubdirectory("viewer-browser-").FullName;
    RunViewerServer server = null!;

    public async Task InitializeAsync() =>
        server = await RunViewerServer.StartAsync(ViewerRuns.Write(root), new PromptLibrary(PromptLibrary.FindDefaultRoot()), []);

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    async Task<(IPage Page, List<string> Errors)> OpenAsync(string path)
    {
        var (page, errors) = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(server.BaseUrl, path).ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return (page, errors);
    }

    [Fact]
    public async Task The_run_page_filters_and_sorts_its_trees()
    {
        var (page, errors) = await OpenAsync("");
        var rows = page.Locator("#trees tbody tr");
        Assert.Equal(3, await rows.CountAsync());

        await page.SelectOptionAsync("#filter-status", "failed");
        Assert.Equal(1, await rows.CountAsync());
        Assert.Equal("p-failed", await rows.Locator("td a").First.TextContentAsync());

        await page.SelectOptionAsync("#filter-status", "");
        await page.SelectOptionAsync("#filter-correct", "yes");
        Assert.Equal(2, await rows.CountAsync());

        await page.SelectOptionAsync("#filter-correct", "");
        await page.ClickAsync("th[data-key=nodes]"); // ascending
        await page.ClickAsync("th[data-key=nodes]"); // descending
        var nodes = await page.Locator("#trees tbody tr td:nth-child(6)").AllTextContentsAsync();
        Assert.Equal(["14", "10", "1"], nodes);

        await page.ClickAsync("text=p1");
        await page.WaitForSelectorAsync("body.tree-page[data-ready=true]");
        Assert.Contains("/tree/0", page.Url);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_step_that_holds_markup_shows_as_text_and_runs_nothing()
    {
        var (page, errors) = await OpenAsync("tree/0");
        var hostile = await page.EvaluateAsync<int>("window.treeView.nodeCount - 1");
        var point = await page.EvaluateAsync<Point>($"window.treeView.zoomTo({hostile}, 1), window.treeView.boxPoint({hostile})");
        await page.Mouse.ClickAsync(point.X, point.Y);

        Assert.Equal(hostile, await page.EvaluateAsync<int>("window.treeView.selected()"));
        Assert.Equal(ViewerRuns.HostileStep, await page.TextContentAsync("#node-text"));
        Assert.Equal(0, await page.Locator("#side img, #side script").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("window.__xss === undefined"));

        // Hovering shows every value of the node, the step as text.
        await page.Mouse.MoveAsync(point.X + 5, point.Y + 5);
        Assert.True(await page.IsVisibleAsync("#tip"));
        Assert.StartsWith(ViewerRuns.HostileStep + "\n#" + hostile, await page.TextContentAsync("#tip"));
        Assert.Equal(0, await page.Locator("#tip *").CountAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Clicking_a_nodes_toggle_collapses_and_expands_its_subtree()
    {
        var (page, errors) = await OpenAsync("tree/0");
        Assert.Equal(14, await page.EvaluateAsync<int>("window.treeView.visibleCount()"));
        // Node 1 ("Let x = 2.") has a1, a2 and their two terminals below it.
        var toggle = await page.EvaluateAsync<Point>("window.treeView.zoomTo(1, 1), window.treeView.togglePoint(1)");
        await page.Mouse.ClickAsync(toggle.X, toggle.Y);
        Assert.Equal(10, await page.EvaluateAsync<int>("window.treeView.visibleCount()"));
        toggle = await page.EvaluateAsync<Point>("window.treeView.zoomTo(1, 1), window.treeView.togglePoint(1)");
        await page.Mouse.ClickAsync(toggle.X, toggle.Y);
        Assert.Equal(14, await page.EvaluateAsync<int>("window.treeView.visibleCount()"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Nodes_take_the_colour_of_the_chosen_score_and_of_their_gold_label()
    {
        var (page, errors) = await OpenAsync("tree/1");
        var options = await page.Locator("#colour-by option").AllInnerTextsAsync();
        Assert.Contains("gold step label", options);
        Assert.Contains("self-evaluation", options);

        await page.SelectOptionAsync("#colour-by", "gold");
        Assert.Equal("#a1d99b", await page.EvaluateAsync<string>("window.treeView.colourOf(1)")); // valid
        Assert.Equal("#fc9272", await page.EvaluateAsync<string>("window.treeView.colourOf(7)")); // invalid (9 - 3 = 5)

        await page.SelectOptionAsync("#colour-by", "q");
        var high = await page.EvaluateAsync<string>("window.treeView.colourOf(1)"); // Q .8
        var low = await page.EvaluateAsync<string>("window.treeView.colourOf(7)");  // Q .1
        Assert.NotEqual(high, low);
        Assert.Contains("0.", await page.TextContentAsync("#legend"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task View_saves_a_screenshot_of_a_tree_and_names_a_tree_that_is_not_there()
    {
        var run = Path.Combine(root, "run");
        var png = Path.Combine(root, "tree.png");
        var r = await Cli.CliRunner.Run("view", run, "--port", "0", "--tree", "1", "--colour", "gold", "--node", "7", "--screenshot", png);
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);

        var missing = await Cli.CliRunner.Run("view", run, "--port", "0", "--tree", "9", "--screenshot", png);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--tree 9", missing.Err);
    }

    public sealed class Point
    {
        public float X { get; set; }
        public float Y { get; set; }
    }
}
