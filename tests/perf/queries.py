"""The GraphQL operations the bench sends: what a frontend asks for on its main screens."""

from __future__ import annotations

_POST = """id title kind createdAt viewerIsAuthor commentCount
  community { id name }
  author { aliasId handle verifiedPhysician specialty displayName isViewer }
  reactions { total viewerReaction counts { reaction count } }
  poll { totalVotes viewerHasVoted closesAt options { index text votes } }
  case { ageBand sex presentingComplaint question specialtyTags status }"""

FEED = f"""query Feed {{ feed(first: 20) {{ nodes {{ {_POST}
  comments(first: 3) {{ nodes {{ id body createdAt viewerIsAuthor
    author {{ aliasId handle verifiedPhysician displayName isViewer }} }} }}
}} }} }}"""

POST_PAGE = f"""query PostPage($id: ID!) {{ post(id: $id) {{ {_POST} body
  comments(first: 20) {{ nodes {{ id body createdAt parentId viewerIsAuthor
    author {{ aliasId handle verifiedPhysician specialty displayName isViewer }} }} }}
}} }}"""

SEARCH = f"""query Search($text: String!) {{ search(text: $text, first: 20) {{ nodes {{ {_POST} }} }} }}"""

CREATE_POST = """mutation Create($input: CreatePostInput!) { createPost(input: $input) { id } }"""

POST_ADDED = """subscription { postAdded { id title community { id name } viewerIsAuthor
  author { aliasId handle displayName verifiedPhysician isViewer } } }"""
