<?xml version="1.0" encoding="UTF-8"?>
<!-- A feed opened in a browser: RSS 2.0 and Atom 1.0 from this server name this stylesheet in an
     <?xml-stylesheet?> instruction, and a browser that applies XSLT shows a readable page instead of raw XML:
     what a feed is, how to subscribe, the items. Feed readers ignore the instruction. German or English after
     the feed's language. No script, no inline style: the feed's answer carries CSP default-src 'none'. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="lang-raw" select="normalize-space(/rss/channel/language | /atom:feed/@xml:lang)"/>
  <xsl:variable name="de" select="starts-with($lang-raw, 'de')"/>
  <xsl:variable name="lang">
    <xsl:choose><xsl:when test="$de">de</xsl:when><xsl:otherwise>en</xsl:otherwise></xsl:choose>
  </xsl:variable>
  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="self" select="(/rss/channel/atom:link[@rel='self'] | /atom:feed/atom:link[@rel='self'])/@href"/>
  <xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="base" select="substring-before($self, '/feeds/')"/>

  <xsl:template match="/">
    <html lang="{$lang}">
      <head>
        <!-- the charset: libxslt (Chromium, lxml) adds a meta http-equiv of its own; Firefox builds a DOM -->
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="referrer" content="no-referrer"/>
        <title><xsl:value-of select="$title"/></title>
        <link rel="stylesheet" href="{$base}/static/style.css"/>
      </head>
      <body>
        <main id="main">
          <p class="notice">
            <xsl:choose>
              <xsl:when test="$de">Dies ist ein Web-Feed: eine Adresse für Feedreader, die neue Meldungen von selbst abholen. So sieht er im Browser aus.</xsl:when>
              <xsl:otherwise>This is a web feed: an address for feed readers, which fetch new messages by themselves. This is how it looks in a browser.</xsl:otherwise>
            </xsl:choose>
          </p>
          <h1><xsl:value-of select="$title"/></h1>
          <xsl:variable name="about" select="/rss/channel/description | /atom:feed/atom:subtitle"/>
          <xsl:if test="$about and string($about) != string($title)">
            <p><xsl:value-of select="$about"/></p>
          </xsl:if>
          <h2>
            <xsl:choose>
              <xsl:when test="$de">Abonnieren</xsl:when>
              <xsl:otherwise>How to subscribe</xsl:otherwise>
            </xsl:choose>
          </h2>
          <p>
            <xsl:choose>
              <xsl:when test="$de">Diese Adresse in einen Feedreader einfügen (z. B. Thunderbird, NetNewsWire, Feedly):</xsl:when>
              <xsl:otherwise>Paste this address into a feed reader (e.g. Thunderbird, NetNewsWire, Feedly):</xsl:otherwise>
            </xsl:choose>
          </p>
          <p><code class="address"><xsl:value-of select="$self"/></code></p>
          <xsl:if test="$home">
            <p>
              <a href="{$home}">
                <xsl:choose>
                  <xsl:when test="$de">Alle Wege, diesem Feed zu folgen (Kalender, Fediverse, Widget)</xsl:when>
                  <xsl:otherwise>Every way to follow this feed (calendar, fediverse, widget)</xsl:otherwise>
                </xsl:choose>
              </a>
            </p>
          </xsl:if>
          <h2>
            <xsl:choose>
              <xsl:when test="$de">Meldungen</xsl:when>
              <xsl:otherwise>Messages</xsl:otherwise>
            </xsl:choose>
          </h2>
          <xsl:choose>
            <xsl:when test="/rss/channel/item | /atom:feed/atom:entry">
              <ol class="items">
                <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
              </ol>
            </xsl:when>
            <xsl:otherwise>
              <p>
                <xsl:choose>
                  <xsl:when test="$de">Derzeit keine Meldungen.</xsl:when>
                  <xsl:otherwise>No messages at the moment.</xsl:otherwise>
                </xsl:choose>
              </p>
            </xsl:otherwise>
          </xsl:choose>
          <xsl:variable name="rights" select="/rss/channel/copyright | /atom:feed/atom:rights"/>
          <xsl:if test="$rights">
            <p class="meta"><xsl:value-of select="$rights"/></p>
          </xsl:if>
        </main>
      </body>
    </html>
  </xsl:template>

  <!-- One item: its title linked to its page, its time and category as the feed gives them, its text. -->
  <xsl:template match="item | atom:entry">
    <xsl:variable name="link" select="link | atom:link[not(@rel) or @rel='alternate']/@href"/>
    <xsl:variable name="when" select="pubDate | atom:published | atom:updated[not(../atom:published)]"/>
    <li>
      <h3>
        <xsl:choose>
          <xsl:when test="$link"><a href="{$link}"><xsl:value-of select="title | atom:title"/></a></xsl:when>
          <xsl:otherwise><xsl:value-of select="title | atom:title"/></xsl:otherwise>
        </xsl:choose>
      </h3>
      <p class="meta">
        <xsl:value-of select="$when"/>
        <xsl:for-each select="category | atom:category/@term">
          <xsl:text> · </xsl:text><xsl:value-of select="."/>
        </xsl:for-each>
      </p>
      <xsl:if test="description | atom:summary">
        <p><xsl:value-of select="description | atom:summary"/></p>
      </xsl:if>
    </li>
  </xsl:template>
</xsl:stylesheet>
