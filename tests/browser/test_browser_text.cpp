// Page text against gpt-oss's simple_browser: HTML to text (links, images, tables, scripts,
// lists, <pre>, html2text's escapes), the 80-column wrap, the display window and header,
// find, citations, URLs and the address classes. Expected texts were produced by the
// reference's page_contents.process_html (lxml + html2text) on the same HTML.
#include <doctest/doctest.h>

#include <string>

#include "harmony/tokenizer.h"
#include "tools/browser/address_policy.h"
#include "tools/browser/citations.h"
#include "tools/browser/errors.h"
#include "tools/browser/find_in_page.h"
#include "tools/browser/html_to_text.h"
#include "tools/browser/line_wrap.h"
#include "tools/browser/page_view.h"
#include "tools/browser/py_text.h"
#include "tools/browser/url.h"

namespace b = gossamer::tools::browser;

namespace {

std::string replace(std::string s, const std::string& from, const std::string& to) {
    for (auto i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
        s.replace(i, from.size(), to);
    return s;
}

const char* kKitchenSink = R"HTML(<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>
    Spaced Title
  </title>
  <style>body { color: red; }</style>
  <script>var x = 1 < 2;</script>
</head>
<body>
<nav><a href="#main">Skip</a> | <a href="mailto:a@b.c">Mail us</a> | <a href="javascript:void(0)">JS</a></nav>
<h2>Section 【one】 ◼ two&#8203;three</h2>
<p>Water is H<sub>2</sub>O and E = mc<sup>2</sup>, see note<sup>[1]</sup>.</p>
<p>An image: <img src="a.png" alt="A cat"> and <img src="b.png" title="Titled"> and <img src="c.png">.</p>
<p><a href="https://example.com/page"><img src="logo.png" alt="Logo"></a></p>
<p>Dagger † in <a href="/dag">a†b link</a> and <a href="https://arxiv.org/abs/1706.03762">Attention</a>.</p>
<p>Repeat <a href="/x">first</a> and <a href="/x">again</a> and <a href="x">relative</a>.</p>
<table><tr><th>Name</th><th>Value</th></tr><tr><td>alpha</td><td>1.5%</td></tr><tr><td>beta</td><td>2</td></tr></table>
<ol start="3"><li>three</li><li>four<ul><li>nested</li></ul></li></ol>
<blockquote>Quoted text<br>second line</blockquote>
<pre>code line 1
  indented line 2</pre>
<p>1. not a list<br>- dash start<br>+ plus start</p>
<p>Math <math><mi>x</mi></math> tail text removed <b>bold</b> and <i>it</i> <code>code()</code> <del>old</del> new</p>
<p>Emoji 😀 here and a backslash \* escape.</p>
<dl><dt>Term</dt><dd>Definition</dd></dl>
<hr>
<p>Abbr <abbr title="World Health Organization">WHO</abbr> end &amp; &lt;tag&gt; &nbsp; nbsp.</p>
</body>
</html>
)HTML";

const char* kKitchenSinkText = R"TXT(
URL: https://example.com/dir/page.html
Skip | Mail us | JS

## Section 〖one〗 ◾ two{ZWSP}three

Water is H_{2}O and E = mc^{2}, see note[1].

An image: [Image 0: A cat] and [Image 1: Titled] and [Image 2].

[Image 3: Logo]

Dagger † in 【0†a‡b link】 and 【1†Attention†arxiv.org】.

Repeat 【2†first】 and 【2†again】 and 【3†relative】.

Name Value   
alpha 1.5%  
beta 2  

  3. three 
  4. four 
     * nested

> Quoted text   
> second line

    code line 1
      indented line 2

1\. not a list  
\- dash start  
\+ plus start

Math bold and it `code()` ~~old~~ new

Emoji here and a backslash \\* escape.

Term 
    Definition

* * *

Abbr WHO end & <tag> nbsp.
  *[WHO]: World Health Organization)TXT";

const char* kInline = R"HTML(<html><body>
Text directly in body<span>with</span>span and <b>bo</b>ld<i>it</i>alic.
<div>div one</div><div>div two</div>
<div><p>para in div</p>   <p>  leading   spaces  </p></div>
<!-- a comment --><p>after comment</p>
<a href="https://example.com/"></a>
<a href="https://example.com/empty">   </a>
<a href="https://EXAMPLE.com:8080/port">port link</a>
<a href="//cdn.example.org/x">proto-relative</a>
<a href="../up/one">up</a> <a href="?q=1">query</a> <a href="#frag">frag</a>
<ul>
  <li><p>para in li</p></li>
  <li>item with <a href="/l">link</a></li>
</ul>
<ul><li>a</li></ul><ul><li>b</li></ul>
<h3><a href="/h">Heading link</a></h3>
<p>Tab	separated	text and     many    spaces</p>
<pre>  pre with <b>bold</b>
  &lt;escaped&gt;</pre>
<p>q: <q>quoted</q> kbd: <kbd>Ctrl</kbd></p>
<p>Unicode: café naïve 日本語 — dashes – and “quotes”</p>
<p>Line<br/>break<br>again</p>
<s>strike</s>after
<p>x<sup>a b</sup> y<sub>i-1</sub></p>
</body></html>
)HTML";

const char* kInlineText = R"TXT(
URL: https://example.com/dir/page.html
Text directly in body with span and bo ld it alic. 

div one 

div two

para in div

leading spaces 

after comment

【0† 】 【1†port link†EXAMPLE.com:8080】 【2†proto-relative†cdn.example.org】 【3†up】 【4†query】 frag 

  * para in li

  * item with 【5†link】

  * a 

  * b

### 【6†Heading link】

Tab separated text and many spaces

      pre with bold
      <escaped>

q: "quoted" kbd: `Ctrl`

Unicode: café naïve 日本語 — dashes – and “quotes”

Line   
break   
again

~~strike~~ after 

x a b y_{i-1})TXT";

}  // namespace

TEST_CASE("browser: HTML becomes the reference's text, links and images") {
    const b::Page page = b::html_page(kKitchenSink, "https://example.com/dir/page.html");
    CHECK(page.title == "\n    Spaced Title\n  ");  // <title>'s text, unstripped
    CHECK(page.text == replace(kKitchenSinkText, "{ZWSP}", "\u200b"));
    const std::map<std::string, std::string> urls = {{"0", "https://example.com/dag"},
                                                     {"1", "https://ar5iv.org/abs/1706.03762"},
                                                     {"2", "https://example.com/x"},
                                                     {"3", "https://example.com/dir/x"}};
    CHECK(page.urls == urls);
}

TEST_CASE("browser: inline tags, whitespace, entities and odd links as html2text writes them") {
    const b::Page page = b::html_page(kInline, "https://example.com/dir/page.html");
    CHECK(page.title == "example.com");  // no <title>: the domain
    CHECK(page.text == kInlineText);
    CHECK(page.urls.at("1") == "https://EXAMPLE.com:8080/port");
    CHECK(page.urls.at("4") == "https://example.com/dir/page.html?q=1");
    CHECK(page.urls.size() == 7);
}

TEST_CASE("browser: a given title wins; special characters are replaced before parsing") {
    const b::Page page =
        b::html_page("<title>T</title><p>【x】 \xF0\x9F\x98\x80 ◼</p>", "https://a.org/", "Given");
    CHECK(page.title == "Given");
    CHECK(page.text == "\nURL: https://a.org/\n〖x〗 ◾");
    CHECK(b::text_page("plain\r\ntext", "https://a.org/t.txt").text ==
          "\nURL: https://a.org/t.txt\nplain\ntext");
}
